"""An admin connects a mailbox with an OAuth provider in the browser; later the provider
refuses the renewal and the page says so (screenshots at 1280 and 390 px)."""

import pytest
from playwright.sync_api import expect

from mailboxes import oauth
from mailboxes.models import Mailbox, OAuthConnection
from people.models import Role
from people.services import create_agent
from tests.browser.conftest import PASSWORD
from tests.factories import PoolFactory
from tests.mailboxes.oauth_provider import OAuthProvider

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.fixture
def provider():
    running = OAuthProvider().start()
    yield running
    running.stop()


def _shots(page, artifacts_dir, name):
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=artifacts_dir / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_an_admin_connects_a_mailbox_and_sees_when_it_needs_attention(
    settings, new_context, sign_in, live_server, page_problems, artifacts_dir, provider
):
    settings.SITE_URL = live_server.url
    settings.OAUTH_PROVIDERS = {"generic": provider.settings()}
    create_agent(username="root", password=PASSWORD, role=Role.ADMIN, first_name="Ada")
    mailbox = Mailbox.objects.create(
        name="Support (Microsoft 365)",
        pool=PoolFactory(name="Billing"),
        kind=Mailbox.Kind.IMAP,
        host="outlook.office365.com",
        port=993,
        from_address="support@acme.test",
        username="support@acme.test",
        smtp_host="smtp.office365.com",
        smtp_port=587,
    )
    provider.next_account = "support@acme.test"
    page = page_problems.watch(new_context().new_page())
    sign_in(page, "root")

    page.click("#nav-mailboxes")
    page.get_by_role("link", name="Support (Microsoft 365)").click()
    page.click("#connect-generic")  # to the provider, which approves, and back

    expect(page.locator(".alert-success")).to_contain_text("Connected as support@acme.test")
    expect(page.locator("#connected-account")).to_have_text("support@acme.test")
    expect(page.locator("#smtp-account")).to_contain_text("XOAUTH2")
    _shots(page, artifacts_dir, "mailbox-connected")

    # Consent withdrawn at the provider; the next fetch's refresh is refused.
    connection = OAuthConnection.objects.get(mailbox=mailbox)
    provider.refresh_tokens[connection.refresh_token].revoked = True
    provider.expire_access_tokens()
    OAuthConnection.objects.filter(pk=connection.pk).update(expires_at=None, access_token="")
    with pytest.raises(oauth.ReconnectNeeded):
        oauth.access_token(mailbox)

    page.reload()
    expect(page.locator("#attention")).to_contain_text("refused to renew")
    _shots(page, artifacts_dir, "mailbox-needs-attention")
    page.click("#nav-mailboxes")
    expect(page.locator("#mailbox-list")).to_contain_text("Needs attention")
    _shots(page, artifacts_dir, "mailbox-list-needs-attention")
    assert page_problems.items == []
