"""An agent opens tickets in a real browser: a phone call from a new customer, then an
outbound email to a known one; then the ticket with its requester card, and the contact page.

The requester is found with the htmx autocomplete (by phone number). Screenshots of the
form (both tickets), the ticket page and the contact page, desktop and phone width, go to
tests/artifacts/.
"""

import pytest
from playwright.sync_api import expect

from mailboxes.models import OutgoingEmail
from people.models import Contact, ContactPhone
from tests.conftest import _agent
from tests.factories import TicketFactory, make_mailbox
from tickets.models import ActivityLog, Message, Ticket
from tickets.states import Channel, Status

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


def test_agent_opens_a_phone_ticket_for_a_new_contact_and_an_outbound_email(
    new_context, live_server, sign_in, page_problems, artifacts_dir, pool, other_pool, customer
):
    agent = _agent("ana", pools=[pool])
    make_mailbox(pool)
    ContactPhone.objects.create(contact=customer, number="+55 11 98765-4321")
    earlier = TicketFactory(pool=pool, requester=customer, subject="Slow internet")
    hidden = TicketFactory(pool=other_pool, requester=customer, subject="Other pool's matter")
    page = page_problems.watch(new_context().new_page())
    sign_in(page, "ana")

    # A call from someone we do not know: a new contact, inline.
    page.locator("#new-ticket").click()
    expect(page.get_by_role("heading", name="New ticket")).to_be_visible()
    page.locator("#contact-query").fill("Paulo")
    expect(page.locator("#no-contact-found")).to_be_visible()
    page.locator("#new-contact summary").click()
    page.get_by_label("Name", exact=True).fill("Paulo Pereira")
    page.get_by_label("Email", exact=True).fill("paulo@example.test")
    page.get_by_label("Phone", exact=True).fill("+55 21 3333-4444")
    page.get_by_label("Channel").select_option(Channel.PHONE)
    page.get_by_label("Subject").fill("No dial tone")
    page.get_by_label("Description").fill("Paulo called: no dial tone since this morning.")
    page.get_by_label("Pool").select_option(str(pool.pk))
    _screenshots(page, artifacts_dir, "new-ticket-phone")
    page.locator("#open-ticket").click()
    phone_ticket = Ticket.objects.get(subject="No dial tone")
    expect(page).to_have_url(f"{live_server.url}/tickets/{phone_ticket.number}/")
    paulo = Contact.objects.get(name="Paulo Pereira")
    assert (phone_ticket.requester, phone_ticket.channel) == (paulo, Channel.PHONE)
    created = phone_ticket.activity.get(action=ActivityLog.Action.CREATED)
    assert created.actor == agent
    expect(page.locator("#requester-card")).to_contain_text("paulo@example.test")
    expect(page.locator("#activity-log")).to_contain_text("Ana")

    # An outbound email to a customer found by their phone number.
    page.locator("#nav-new-ticket").click()
    page.locator("#contact-query").fill("98765")
    choice = page.locator("#contact-found .contact-choice", has_text="Carla Cliente")
    expect(choice).to_be_visible()
    expect(choice).to_contain_text("1 open")  # the other pool's ticket is not counted
    choice.locator("input[type=radio]").check()
    page.get_by_label("Channel").select_option(Channel.OUTBOUND_EMAIL)
    page.get_by_label("Subject").fill("Your new router")
    page.get_by_label("Description").fill("Hello Carla,\n\nyour new router ships tomorrow.")
    page.get_by_label("Pool").select_option(str(pool.pk))
    _screenshots(page, artifacts_dir, "new-ticket-outbound")
    page.locator("#open-ticket").click()
    mail_ticket = Ticket.objects.get(subject="Your new router")
    expect(page).to_have_url(f"{live_server.url}/tickets/{mail_ticket.number}/")
    message = mail_ticket.messages.get()
    assert message.kind == Message.Kind.OUTBOUND
    outgoing = OutgoingEmail.objects.get(ticket_message=message)
    assert mail_ticket.number in outgoing.subject and mail_ticket.number in outgoing.body_text

    # The ticket page: who the customer is, and their other tickets (open first, counted).
    card = page.locator("#requester-card")
    expect(card).to_contain_text("Carla Cliente")
    expect(card).to_contain_text("+55 11 98765-4321")
    expect(card.locator("#other-tickets")).to_contain_text(earlier.number)
    expect(card).not_to_contain_text(hidden.number)
    expect(card.locator("#other-open-count")).to_have_text("1 open")
    _screenshots(page, artifacts_dir, "ticket-requester-card")

    # The contact page: all their tickets of the agent's pools.
    page.locator("#requester-link").click()
    expect(page.locator("#contact-name")).to_contain_text("Carla Cliente")
    tickets = page.locator("#contact-tickets")
    expect(tickets).to_contain_text(earlier.number)
    expect(tickets).to_contain_text(mail_ticket.number)
    expect(tickets).not_to_contain_text(hidden.number)
    expect(page.locator("#contact-total-count")).to_have_text("2 in all")
    _screenshots(page, artifacts_dir, "contact-page")
    assert Ticket.objects.get(pk=earlier.pk).status == Status.NEW
    assert page_problems.items == []
