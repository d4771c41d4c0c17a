"""A bounced customer in a real browser: the agent is warned and must confirm a reply; the
admin sees the suppression list and the mailbox's warnings (screenshots, 1280 and 390 px)."""

import pytest
from playwright.sync_api import expect

from mailboxes.models import Mailbox, OutgoingEmail, SuppressedAddress
from people.roles import Role
from people.services import create_agent
from tests.browser.conftest import PASSWORD
from tests.mailboxes.test_delivery_reports import report
from tests.mailboxes.test_processing import build_mail, make_mailbox, receive
from tickets.models import Message, PoolMembership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": 1280, "phone": 390}


def _bounced_ticket(pool):
    mailbox = make_mailbox(pool)
    ticket = receive(mailbox, build_mail()).ticket
    sent = OutgoingEmail.objects.create(
        ticket=ticket,
        mailbox=mailbox,
        from_address="support@helpdesk.test",
        to=["carla@example.test"],
        subject="Re: Printer on fire",
        body_text="We are on it.",
        message_id="<reply-1@helpdesk.test>",
        state=OutgoingEmail.State.SENT,
    )
    receive(mailbox, report(sent.message_id, ("carla@example.test", "failed", "5.1.1")))
    assert SuppressedAddress.objects.active().count() == 1
    return mailbox, ticket


def _context(browser, width):
    context = browser.new_context(
        locale="en-US", timezone_id="UTC", viewport={"width": width, "height": 900}
    )
    context.set_default_timeout(15_000)
    return context


def test_an_agent_is_warned_and_confirms_a_reply_to_a_bounced_customer(
    browser, live_server, sign_in, page_problems, artifacts_dir, pool
):
    _mailbox, ticket = _bounced_ticket(pool)
    agent = create_agent(username="ana", password=PASSWORD, email="ana@helpdesk.test")
    PoolMembership.objects.create(pool=pool, user=agent)
    url = f"{live_server.url}/tickets/{ticket.number}/"
    for name, width in WIDTHS.items():
        context = _context(browser, width)
        page = page_problems.watch(sign_in(context.new_page(), "ana"))
        page.goto(url)
        expect(page.locator("#panel-suppressed")).to_contain_text("bounced permanently (5.1.1)")
        page.locator("#panel-suppressed").scroll_into_view_if_needed()
        page.screenshot(path=artifacts_dir / f"suppressed-ticket-{name}.png", full_page=True)
        context.close()

    context = _context(browser, 1280)
    page = page_problems.watch(sign_in(context.new_page(), "ana"))
    page.goto(url)
    page.locator("#reply-form textarea[name=body]").fill("Did our mail reach you?")
    with page.expect_response(lambda r: r.url.endswith("/reply/")):
        page.locator("#send-reply").click()
    expect(page.locator("#reply-form")).to_contain_text("Tick “Send anyway”")
    assert not Message.objects.filter(kind=Message.Kind.OUTBOUND).exists()
    page.screenshot(path=artifacts_dir / "suppressed-reply-refused-desktop.png", full_page=True)
    page.get_by_label("Send anyway: I know this address bounced.").check()
    page.locator("#send-reply").click()
    expect(page.locator(".alert-success")).to_contain_text(
        "Your reply was saved and will be sent shortly."
    )
    assert Message.objects.filter(kind=Message.Kind.OUTBOUND).count() == 1
    context.close()
    # The refused POST answers 400 on purpose (the form with its error).
    assert [item for item in page_problems.items if "/reply/" not in item] == []


def test_an_admin_sees_the_suppression_list_and_the_mailbox_warnings(
    browser, live_server, page_problems, artifacts_dir, pool
):
    mailbox, _ticket = _bounced_ticket(pool)
    Mailbox.objects.filter(pk=mailbox.pk).update(
        max_message_mb=1,
        attention="2026-12-03 10:00 UTC: the server's UIDVALIDITY changed from 17 to 42.",
    )
    mailbox.refresh_from_db()
    receive(mailbox, build_mail(body="x" * (2**20 + 10), message_id="<scan@example.test>"))
    create_agent(username="root", password=PASSWORD, email="root@helpdesk.test", role=Role.ADMIN)
    pages = {
        "suppressed-list": "/admin/mailboxes/suppressedaddress/",
        "mailbox-warnings": f"/admin/mailboxes/mailbox/{mailbox.pk}/change/",
        "mailbox-list": "/admin/mailboxes/mailbox/",
    }
    for name, width in WIDTHS.items():
        context = _context(browser, width)
        page = page_problems.watch(context.new_page())
        page.goto(f"{live_server.url}/admin/login/")
        page.locator("#id_username").fill("root")
        page.locator("#id_password").fill(PASSWORD)
        page.locator("input[type=submit]").click()
        for shot, path in pages.items():
            page.goto(live_server.url + path)
            page.screenshot(path=artifacts_dir / f"{shot}-{name}.png", full_page=True)
        page.goto(live_server.url + pages["suppressed-list"])
        expect(page.locator("#result_list")).to_contain_text("carla@example.test")
        page.goto(live_server.url + pages["mailbox-warnings"])
        expect(page.locator(".refused-mail")).to_contain_text("1 message refused")
        expect(page.locator("body")).to_contain_text("UIDVALIDITY changed from 17 to 42")
        context.close()
    # Django's admin has no favicon: the browser's guess at /favicon.ico is not ours.
    assert [item for item in page_problems.items if "favicon.ico" not in item] == []
