"""An admin makes an access profile without reports and gives it to an agent: the agent's
menu loses Reports and /reports/ answers 403 (screenshots at 1280 and 390 px)."""

import pytest
from playwright.sync_api import expect

from people.models import AccessProfile, Role
from people.services import create_agent
from tests.browser.conftest import PASSWORD
from tests.factories import PoolFactory
from tickets.models import PoolMembership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = {"desktop": 1280, "phone": 390}


def _shoot(page, artifacts_dir, name):
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=artifacts_dir / f"access-profile-{name}-{label}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_an_admin_takes_reports_away_from_an_agent_with_a_profile(
    new_context, sign_in, live_server, page_problems, artifacts_dir
):
    create_agent(username="root", password=PASSWORD, role=Role.ADMIN, first_name="Ada")
    nina = create_agent(username="nina", password=PASSWORD, first_name="Nina")
    billing = PoolFactory(name="Billing")
    PoolFactory(name="Hardware")
    PoolMembership.objects.create(user=nina, pool=billing)

    agent_page = new_context().new_page()
    sign_in(agent_page, "nina")
    expect(agent_page.locator("#nav-reports")).to_have_count(1)

    page = page_problems.watch(new_context().new_page())
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, "root")
    page.click("#nav-profiles")
    expect(page.locator("#no-profiles")).to_be_visible()
    page.click("#new-profile")
    page.get_by_label("Name").fill("Atendente N1")
    page.get_by_label("Description").fill("First line: answers, merges and takes calls.")
    for feature in ("Merge tickets", "Phone desk", "API tokens", "Knowledge base authoring"):
        page.get_by_label(feature, exact=True).check()
    page.get_by_label("Hardware").check()
    page.get_by_label("Nina").check()
    _shoot(page, artifacts_dir, "form")
    page.get_by_role("button", name="Save").click()

    expect(page.locator(".alert-success")).to_contain_text("Access profile saved.")
    expect(page.locator("#profiles")).to_contain_text("Atendente N1")
    expect(page.locator("#profiles")).to_contain_text("Hardware")
    _shoot(page, artifacts_dir, "list")
    profile = AccessProfile.objects.get()
    assert profile.features == ["merge", "phone_desk", "knowledge_authoring", "api_tokens"]
    # The profile's pools are now the agent's pools.
    assert list(nina.pool_memberships.values_list("pool__name", flat=True)) == ["Hardware"]

    page.goto(f"{live_server.url}/settings/profiles/{profile.pk}/delete/")
    expect(page.locator("#profile-delete")).to_contain_text("1 agent holds this profile")
    _shoot(page, artifacts_dir, "delete")

    agent_page.reload()
    expect(agent_page.locator("#nav-calls")).to_have_count(1)
    expect(agent_page.locator("#nav-reports")).to_have_count(0)
    refused = agent_page.goto(f"{live_server.url}/reports/")
    assert refused.status == 403
    refused = agent_page.goto(f"{live_server.url}/reports/breakdown/?export=csv")
    assert refused.status == 403
    assert page_problems.items == []
