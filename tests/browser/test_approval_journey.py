"""A junior's reply in a real browser: it holds its status until a supervisor approves it.

The junior answers with "Then set status: Resolved"; the ticket stays as it was and the
reply says what it will do. The supervisor reads it in the approval queue, with the
conversation above it, and approves it from the ticket page. Screenshots of both pages,
desktop and phone width, go to tests/artifacts/.
"""

import pytest
from playwright.sync_api import expect

from tests.conftest import _agent
from tickets.models import Approval, Message
from tickets.services import add_customer_message, add_reply, create_ticket
from tickets.states import Status

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

WIDTHS = {"desktop": 1280, "phone": 390}


def _screenshots(page, artifacts_dir, name):
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=artifacts_dir / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def test_junior_reply_holds_resolved_until_the_supervisor_approves_on_the_ticket_page(
    new_context, live_server, sign_in, page_problems, artifacts_dir, pool, customer
):
    junior = _agent("junior", is_junior=True, pools=[pool])
    _agent("supervisor", role="supervisor")
    ticket = create_ticket(subject="Invoice charged twice", pool=pool, requester=customer)
    add_customer_message(
        ticket, contact=customer, body_text="Hello, my March invoice was charged twice."
    )
    ticket_url = f"{live_server.url}/tickets/{ticket.number}/"

    page = page_problems.watch(sign_in(new_context().new_page(), "junior"))
    page.goto(ticket_url)
    expect(page.locator("#junior-hint")).to_be_visible()
    page.locator("#reply-form textarea[name=body]").fill("We refunded the second charge today.")
    page.locator("#reply-form select[name=then_status]").select_option(Status.RESOLVED)
    page.locator("#send-reply").click()
    expect(page.locator(".pending-reply .held-status")).to_contain_text("Resolved")
    expect(page.locator("#ticket-status")).not_to_have_text("Resolved")
    ticket.refresh_from_db()
    assert ticket.status != Status.RESOLVED
    reply = Message.objects.get(ticket=ticket, kind=Message.Kind.OUTBOUND)
    assert reply.approval == Approval.PENDING
    assert reply.author_user == junior

    boss = page_problems.watch(sign_in(new_context().new_page(), "supervisor"))
    boss.goto(f"{live_server.url}/tickets/approvals/")
    item = boss.locator(f"#approval-{reply.pk}")
    expect(item.locator(".approval-conversation")).to_contain_text("charged twice")
    expect(item.locator(".held-status-choice")).to_have_value(Status.RESOLVED)
    _screenshots(boss, artifacts_dir, "approval-queue")

    boss.goto(ticket_url)
    expect(boss.locator(".pending-reply .approve-button")).to_be_visible()
    _screenshots(boss, artifacts_dir, "ticket-pending-reply")
    boss.locator(".pending-reply .approve-button").click()
    expect(boss).to_have_url(ticket_url)
    expect(boss.locator("#ticket-status")).to_have_text("Resolved")

    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert page_problems.items == []


def test_a_returned_reply_tells_the_junior_why_in_the_queue_and_on_the_ticket(
    new_context, live_server, sign_in, page_problems, artifacts_dir, pool, customer
):
    junior = _agent("junior", is_junior=True, pools=[pool])
    _agent("supervisor", role="supervisor")
    ticket = create_ticket(subject="Invoice charged twice", pool=pool, requester=customer)
    add_customer_message(ticket, contact=customer, body_text="Charged twice in March.")
    reply = add_reply(ticket, author=junior, body="Refunded.", then_status=Status.CLOSED)
    ticket_url = f"{live_server.url}/tickets/{ticket.number}/"

    boss = page_problems.watch(sign_in(new_context().new_page(), "supervisor"))
    boss.goto(ticket_url)
    boss.locator(".pending-reply textarea[name=comment]").fill("Say when the refund arrives.")
    boss.locator(".pending-reply .return-button").click()
    expect(boss.locator(".returned-reply")).to_contain_text("Say when the refund arrives.")

    page = page_problems.watch(sign_in(new_context().new_page(), "junior"))
    notice = page.locator(".returned-replies")
    expect(notice).to_contain_text("Say when the refund arrives.")
    _screenshots(page, artifacts_dir, "junior-queue-returned")
    notice.get_by_role("link").click()
    expect(page.locator(f"#message-{reply.pk} .returned-reply")).to_contain_text("returned")
    _screenshots(page, artifacts_dir, "junior-ticket-returned")
    ticket.refresh_from_db()
    assert ticket.status != Status.CLOSED
    assert page_problems.items == []
