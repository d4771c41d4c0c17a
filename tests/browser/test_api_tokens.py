"""An agent makes an API token from their profile, copies the secret shown once, calls the
API with it over real HTTP, revokes it; the interactive docs load from our own files."""

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import expect

from people.services import create_agent
from tests.browser.conftest import PASSWORD
from tests.factories import PoolFactory
from tickets.models import PoolMembership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def shoot(page, artifacts_dir, name):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=artifacts_dir / f"api-{name}-1280.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=artifacts_dir / f"api-{name}-390.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def call(url, secret):
    headers = {"Authorization": f"Bearer {secret}"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (the live server)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_an_agent_makes_uses_and_revokes_a_token(
    new_context, sign_in, live_server, page_problems, artifacts_dir
):
    pool = PoolFactory(name="Billing")
    PoolFactory(name="Hardware")
    agent = create_agent(username="ana", password=PASSWORD, first_name="Ana")
    PoolMembership.objects.create(pool=pool, user=agent)
    page = page_problems.watch(new_context().new_page())
    sign_in(page, "ana")
    page.click("#my-profile")
    page.click("#my-api-tokens")
    expect(page.get_by_role("heading", name="My API tokens")).to_be_visible()
    # Only the agent's own pool is offered.
    expect(page.get_by_label("Hardware")).to_have_count(0)
    page.get_by_label("Name").fill("Chat widget")
    page.get_by_label("Read and write").check()
    page.get_by_label("Billing").check()
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#token-secret").inner_text().strip()
    assert secret.startswith("hd_")
    expect(page.locator("#new-token")).to_contain_text("shown this once")
    shoot(page, artifacts_dir, "token-created")

    status, body = call(f"{live_server.url}/api/v1/me/", secret)
    assert status == 200 and body["owner"]["username"] == "ana"
    assert body["pools"] == [pool.pk] and body["scope"] == "write"

    page.goto(f"{live_server.url}/me/tokens/")
    expect(page.locator("#token-secret")).to_have_count(0)
    assert secret not in page.content()
    expect(page.locator("#token-table")).to_contain_text("Chat widget")
    expect(page.locator("#token-table")).to_contain_text("127.0.0.1")  # last use
    shoot(page, artifacts_dir, "token-list")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Revoke").click()
    expect(page.locator("#token-table")).to_contain_text("Revoked")
    status, body = call(f"{live_server.url}/api/v1/me/", secret)
    assert status == 401 and "revoked" in body["detail"]
    assert page_problems.items == []


def test_the_interactive_docs_load_from_our_files_under_the_csp(
    new_context, sign_in, live_server, page_problems, artifacts_dir
):
    create_agent(username="ana", password=PASSWORD, first_name="Ana")
    context = new_context()
    outside = []
    context.on(
        "request",
        lambda request: (
            outside.append(request.url) if not request.url.startswith(live_server.url) else None
        ),
    )
    page = page_problems.watch(context.new_page())
    sign_in(page, "ana")
    page.goto(f"{live_server.url}/api/v1/docs/")
    expect(page.locator(".swagger-ui .opblock-tag").first).to_be_visible()
    expect(page.locator(".swagger-ui")).to_contain_text("/api/v1/tickets/")
    shoot(page, artifacts_dir, "docs")
    assert [url for url in outside if not url.startswith("data:")] == []
    assert page_problems.items == []


def test_an_admin_makes_a_bot_and_its_token(
    new_context, sign_in, live_server, page_problems, artifacts_dir
):
    from people.models import Role

    pool = PoolFactory(name="Billing")
    create_agent(username="root", password=PASSWORD, first_name="Rita", role=Role.ADMIN)
    page = page_problems.watch(new_context().new_page())
    sign_in(page, "root")
    page.goto(f"{live_server.url}/me/tokens/")
    expect(page.get_by_role("heading", name="API tokens", exact=True)).to_be_visible()
    page.locator("#id_account_name").fill("Chatbot")
    page.get_by_role("button", name="Create service account").click()
    expect(page.get_by_role("alert")).to_contain_text("Service account “Chatbot” created")
    page.locator("#id_name").fill("Website widget")
    page.get_by_label("Acts as").select_option(label="Chatbot")
    page.get_by_label("Read and write").check()
    page.get_by_label("Billing").check()
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#token-secret").inner_text().strip()
    expect(page.locator("#token-table")).to_contain_text("service account")
    shoot(page, artifacts_dir, "admin-tokens")
    status, body = call(f"{live_server.url}/api/v1/me/", secret)
    assert status == 200 and body["owner"]["name"] == "Chatbot" and body["pools"] == [pool.pk]
    assert page_problems.items == []
