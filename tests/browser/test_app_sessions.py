"""An agent signs a customer's app out from the contact's page: the box lists the app
sessions, the sessions page asks before signing one out, and the app's token stops."""

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect
from rest_framework.test import APIClient

from api.contact_access import issue_app_session
from chat.models import ChatChannel
from people.services import create_agent
from tests.browser.conftest import PASSWORD
from tests.factories import ContactFactory
from tickets.models import PoolMembership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[3] / "chatlive-shots"


def _shots(page, artifacts_dir, name):
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        path = Path(artifacts_dir) / f"{name}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        if SHOTS.is_dir():
            shutil.copy(path, SHOTS / path.name)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_an_agent_signs_out_one_app_session_after_confirming(
    live_server, sign_in, new_context, page_problems, artifacts_dir, pool
):
    agent = create_agent(username="ana", password=PASSWORD, first_name="Ana")
    PoolMembership.objects.create(pool=pool, user=agent)
    channel = ChatChannel.objects.create(name="Acme app", kind=ChatChannel.Kind.WIDGET, pool=pool)
    maria = ContactFactory(name="Maria Silva")
    _phone, phone_token = issue_app_session(maria, channel, device="Pixel 8")
    issue_app_session(maria, channel, device="iPad Air")
    app = APIClient()
    app.credentials(HTTP_AUTHORIZATION=f"Contact {phone_token}")
    assert app.get("/api/v1/conversations/").status_code == 200

    page = page_problems.watch(sign_in(new_context().new_page(), "ana"))
    page.goto(f"{live_server.url}/tickets/contacts/{maria.pk}/")
    box = page.locator("#contact-panel-app-sessions")
    expect(box).to_contain_text("Pixel 8 · Acme app")
    _shots(page, artifacts_dir, "app-sessions-contact")
    box.get_by_role("link", name="Manage app sessions").click()
    expect(page.locator("#active-sessions tbody tr")).to_have_count(2)
    _shots(page, artifacts_dir, "app-sessions-page")

    row = page.locator("#active-sessions tbody tr", has_text="Pixel 8")
    page.once("dialog", lambda dialog: dialog.dismiss())  # changed their mind
    row.get_by_role("button", name="Sign out").click()
    expect(page.locator("#active-sessions tbody tr")).to_have_count(2)
    page.once("dialog", lambda dialog: dialog.accept())
    row.get_by_role("button", name="Sign out").click()

    expect(page.locator("#active-sessions tbody tr")).to_have_count(1)
    expect(page.locator("#revoked-sessions")).to_contain_text("Signed out by an agent · Ana")
    assert app.get("/api/v1/conversations/").status_code == 401
    _shots(page, artifacts_dir, "app-sessions-signed-out")
    assert page_problems.items == []
