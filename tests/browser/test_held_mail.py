"""An agent sees a spoofed-looking reply held on the ticket page and releases it."""

import pytest
from playwright.sync_api import expect

from mailboxes.models import RawMessage
from tests.browser.conftest import PASSWORD
from tests.conftest import _agent
from tests.factories import PoolFactory
from tests.mailboxes.test_held_mail import MX, reply
from tests.mailboxes.test_processing import build_mail, make_mailbox, receive

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shoot(page, artifacts_dir, name):
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=artifacts_dir / f"{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_agent_releases_a_held_reply_from_the_ticket_page(
    new_context, sign_in, live_server, page_problems, artifacts_dir
):
    pool = PoolFactory(name="Billing")
    agent = _agent("bruno", pools=[pool])
    agent.set_password(PASSWORD)
    agent.save()
    mailbox = make_mailbox(pool)
    mailbox.trusted_authserv_id = MX
    mailbox.save()
    ticket = receive(mailbox, build_mail(message_id="<carla-1@example.test>")).ticket
    held = receive(mailbox, reply(ticket))
    assert held.state == RawMessage.State.QUARANTINED

    page = page_problems.watch(new_context().new_page())
    sign_in(page, "bruno")
    page.click("#held-mail-link")
    expect(page.locator(f"#held-{held.pk}")).to_contain_text("carla@example.test")
    _shoot(page, artifacts_dir, "held-mail-list")
    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
    panel = page.locator(f"#panel-held-{held.pk}")
    expect(panel).to_contain_text("carla@example.test")
    _shoot(page, artifacts_dir, "held-mail-ticket")
    panel.get_by_role("link", name="Read it").click()
    expect(page.locator("#held-text")).to_contain_text("still on fire")
    _shoot(page, artifacts_dir, "held-mail-detail")
    page.go_back()
    page.locator(f"#panel-held-{held.pk}").get_by_role("button", name="Release").click()
    expect(page.locator(".alert")).to_contain_text("released")
    expect(page.locator(f"#panel-held-{held.pk}")).to_have_count(0)
    expect(page.locator(".message-body").last).to_contain_text("It is still on fire")
    held.refresh_from_db()
    assert held.state == RawMessage.State.PROCESSED
    assert page_problems.items == []
