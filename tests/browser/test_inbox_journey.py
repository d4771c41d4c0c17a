"""The inbox in a browser: "/" quick replies, files dropped on the reply, a tag on a bubble,
a star and the Starred tab, and a supervisor merging a duplicate contact."""

import pytest
from playwright.sync_api import expect

from chat.adapters.base import Inbound
from chat.inbound import receive
from people.models import Contact, Role
from tests.browser.conftest import PASSWORD
from tests.conftest import _agent
from tests.factories import ContactFactory
from tickets.models import Attachment, CannedResponse, MessageTag, TicketStar

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A File built in the page and dropped on the reply form, as a desktop drag would.
DROP = """([selector, name, body]) => {
  const data = new DataTransfer();
  data.items.add(new File([body], name, {type: "text/plain"}));
  const target = document.querySelector(selector);
  for (const type of ["dragenter", "dragover", "drop"]) {
    const options = {bubbles: true, cancelable: true, dataTransfer: data};
    target.dispatchEvent(new DragEvent(type, options));
  }
}"""


def _chat(channel):
    record = receive(
        channel,
        Inbound("4242", "1", name="Bruna Lima", text="Olá, quero o reembolso do pedido 881."),
    )
    CannedResponse.objects.create(
        title="Refund confirmed",
        body="Hello {customer_name}, the refund for {ticket_number} is on its way.",
    )
    CannedResponse.objects.create(title="Refund policy", body="Refunds take 5 days.")
    CannedResponse.objects.create(title="Password reset", body="Use the link.")
    return record.ticket


def test_quick_reply_drop_tag_and_star(
    new_context, sign_in, live_server, page_problems, artifacts_dir, telegram_channel, eager_tasks
):
    _agent("ana", pools=[telegram_channel.pool])
    ticket = _chat(telegram_channel)
    page = page_problems.watch(new_context().new_page())
    sign_in(page, "ana")
    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")

    box = page.locator("#reply-form textarea[name=body]")
    box.click()
    box.press_sequentially("Oi! /refu")
    menu = page.locator("#quick-reply-menu")
    expect(menu.locator(".quick-reply-option")).to_have_count(2)
    box.press("ArrowDown")
    expect(menu.locator(".quick-reply-option.active")).to_contain_text("Refund policy")
    box.press("ArrowUp")
    page.screenshot(path=artifacts_dir / "inbox-quick-replies-1280.png", full_page=True)
    box.press("Enter")
    expect(menu).to_have_count(0)
    expect(box).to_have_value(
        f"Oi! Hello Bruna Lima, the refund for {ticket.number} is on its way."
    )

    page.evaluate(DROP, ["#reply-form", "pedido-881.txt", "order 881"])
    expect(page.locator("#reply-form .dropped-file")).to_have_text(" pedido-881.txt")
    page.screenshot(path=artifacts_dir / "inbox-dropped-file-1280.png", full_page=True)
    page.locator("#send-reply").click()
    expect(page.locator("#chat-thread")).to_contain_text("the refund for")
    expect(page.locator("#chat-thread")).to_contain_text("pedido-881.txt")
    assert Attachment.objects.get(ticket=ticket).filename == "pedido-881.txt"

    first = ticket.messages.order_by("pk").first()
    tags = page.locator(f"#message-tags-{first.pk}")
    tags.locator("summary").click()
    tags.locator("input[name=name]").fill("refund")
    tags.get_by_role("button", name="Add").click()
    expect(page.locator(f"#message-tags-{first.pk} .message-tag")).to_have_text("refund")
    assert MessageTag.objects.get().message == first

    page.locator("h1 ~ .star-form .star-toggle").click()
    expect(page.locator("h1 ~ .star-form .star-toggle")).to_have_attribute("aria-pressed", "true")
    page.screenshot(path=artifacts_dir / "inbox-ticket-1280.png", full_page=True)
    page.goto(f"{live_server.url}/tickets/?tab=starred")
    rows = page.locator(".queue-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(ticket.number)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=artifacts_dir / "inbox-starred-390.png", full_page=True)
    rows.first.locator(".star-toggle").click()
    expect(rows.first.locator(".star-toggle")).to_have_attribute("aria-pressed", "false")
    assert not TicketStar.objects.exists()

    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
    box = page.locator("#reply-form textarea[name=body]")
    box.click()
    box.press_sequentially("/pass")
    expect(page.locator("#quick-reply-menu .quick-reply-option")).to_have_count(1)
    page.screenshot(path=artifacts_dir / "inbox-quick-replies-390.png", full_page=True)
    box.press("Enter")
    expect(box).to_have_value("Use the link.")
    assert page_problems.items == []


def test_a_supervisor_merges_a_duplicate_contact(
    new_context, sign_in, live_server, page_problems, artifacts_dir, telegram_channel
):
    _agent("sofia", role=Role.SUPERVISOR)
    kept = ContactFactory(name="Bruna Lima")
    duplicate = receive(
        telegram_channel, Inbound("4242", "1", name="Bruna L.", text="Oi de novo")
    ).conversation.contact
    page = page_problems.watch(new_context().new_page())
    sign_in(page, "sofia", PASSWORD)

    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}/tickets/contacts/{kept.pk}/")
        page.locator("#merge-contact").click()
        page.locator("#merge-search").fill("Bruna")
        page.get_by_role("button", name="Search").click()
        page.locator(".merge-candidate", has_text="Bruna L.").click()
        expect(page.locator("#merge-moving")).to_contain_text("Conversations")
        expect(page.locator("#merge-moving")).to_contain_text("Tickets")
        page.screenshot(path=artifacts_dir / f"inbox-contact-merge-{width}.png", full_page=True)

    page.locator("#confirm-merge").click()
    expect(page).to_have_url(f"{live_server.url}/tickets/contacts/{kept.pk}/")
    expect(page.locator("#contact-tickets")).to_contain_text("Oi de novo")
    assert Contact.objects.get(pk=duplicate.pk).merged_into_id == kept.pk
    assert page_problems.items == []
