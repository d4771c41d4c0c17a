"""Agents open tickets for customers: phone, walk-in, outbound email (issue 13)."""

from email.message import EmailMessage

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from mailboxes.models import EmailTemplate, OutgoingEmail
from mailboxes.processing import process_raw_messages
from people.models import Contact, ContactEmail, ContactPhone
from people.services import ContactDetails, find_contacts
from tests.factories import TopicFactory, make_mailbox
from tests.mailboxes.test_processing import store_raw
from tickets import signals
from tickets.models import ActivityLog, Approval, Message, PoolMembership
from tickets.services import approve_reply
from tickets.services.opening import AgentTicket, open_agent_tickets
from tickets.states import Channel, Priority, Status

Action = ActivityLog.Action


def _phone_ticket(pool, contact=None, **fields) -> AgentTicket:
    values = {
        "subject": "Internet down",
        "description": "The customer called: no internet since this morning.",
        "pool": pool,
        "channel": Channel.PHONE,
        "contact": contact,
    }
    values.update(fields)
    return AgentTicket(**values)


def test_a_phone_ticket_records_the_customers_words_and_names_the_agent(
    agent, pool, customer, django_capture_on_commit_callbacks
):
    heard = []

    def hear(sender, tickets, actor, **kwargs):
        heard.append(actor)

    signals.tickets_created.connect(hear)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            [ticket] = open_agent_tickets([_phone_ticket(pool, customer)], actor=agent)
    finally:
        signals.tickets_created.disconnect(hear)
    assert (ticket.channel, ticket.requester, ticket.pool) == (Channel.PHONE, customer, pool)
    message = ticket.messages.get()
    assert (message.kind, message.author_contact) == (Message.Kind.INBOUND, customer)
    created = ticket.activity.get(action=Action.CREATED)
    assert created.actor == agent
    assert created.after == ticket.number
    assert ticket.activity.filter(action=Action.ROUTED).exists()
    assert heard == [agent]
    assert not OutgoingEmail.objects.exists()


def test_a_walk_in_ticket_for_a_new_contact_makes_the_contact(agent, pool):
    new = ContactDetails(
        name="Walter Walk", email="Walter@Example.test", phone="+55 (11) 98765-4321"
    )
    [ticket] = open_agent_tickets(
        [_phone_ticket(pool, channel=Channel.WALK_IN, new_contact=new)], actor=agent
    )
    contact = ticket.requester
    assert contact.name == "Walter Walk"
    assert ContactEmail.objects.get(contact=contact).address == "walter@example.test"
    assert ContactPhone.objects.get(contact=contact).digits == "5511987654321"
    assert ticket.channel == Channel.WALK_IN
    assert list(find_contacts("98765")) == [contact]
    assert list(find_contacts("walter@ex")) == [contact]


def test_a_new_contact_with_an_address_someone_has_is_refused_and_nothing_is_made(
    agent, pool, customer
):
    customer.emails.update(address="carla@example.test")
    new = ContactDetails(name="Impostor", email="carla@example.test")
    with pytest.raises(ValidationError):
        open_agent_tickets([_phone_ticket(pool, new_contact=new)], actor=agent)
    assert not Contact.objects.filter(name="Impostor").exists()


def test_chosen_topic_product_priority_and_technician_win_over_routing(agent, pool, customer):
    topic = TopicFactory(name="Outage", keywords="internet", default_priority=Priority.HIGH)
    colleague = PoolMembership.objects.create(
        pool=pool, user=type(agent).objects.create_user("colleague")
    ).user
    from people.models import AgentProfile

    AgentProfile.objects.create(user=colleague)
    request = _phone_ticket(
        pool, customer, topic=topic, priority=Priority.URGENT, assignee=colleague
    )
    [ticket] = open_agent_tickets([request], actor=agent)
    ticket.refresh_from_db()
    assert (ticket.topic, ticket.priority, ticket.assignee) == (topic, Priority.URGENT, colleague)
    assert ticket.status == Status.TAKEN
    assert not ticket.activity.filter(action=Action.ROUTED).exists()
    chosen = ticket.activity.get(action=Action.PRIORITY)
    assert chosen.actor == agent


def test_a_chosen_topic_without_priority_gives_its_default_priority(agent, pool, customer):
    topic = TopicFactory(name="Outage", default_priority=Priority.HIGH)
    [ticket] = open_agent_tickets([_phone_ticket(pool, customer, topic=topic)], actor=agent)
    ticket.refresh_from_db()
    assert (ticket.topic, ticket.priority) == (topic, Priority.HIGH)


def test_files_go_with_the_customers_message(agent, pool, customer):
    upload = SimpleUploadedFile("photo.jpg", b"jpeg", content_type="image/jpeg")
    [ticket] = open_agent_tickets([_phone_ticket(pool, customer, files=[upload])], actor=agent)
    assert [a.filename for a in ticket.messages.get().attachments.all()] == ["photo.jpg"]


def test_an_agent_cannot_open_a_ticket_in_a_pool_they_are_not_in(agent, other_pool, customer):
    with pytest.raises(PermissionDenied):
        open_agent_tickets([_phone_ticket(other_pool, customer)], actor=agent)


def test_a_customer_cannot_open_tickets_through_the_agent_service(customer_user, pool, customer):
    with pytest.raises(PermissionDenied):
        open_agent_tickets([_phone_ticket(pool, customer)], actor=customer_user)


def test_a_technician_outside_the_pool_is_refused(agent, other_agent, pool, customer):
    with pytest.raises(ValidationError):
        open_agent_tickets([_phone_ticket(pool, customer, assignee=other_agent)], actor=agent)


# --- outbound email --------------------------------------------------------------------------


def _outbound(pool, contact, **fields) -> AgentTicket:
    return _phone_ticket(
        pool,
        contact,
        channel=Channel.OUTBOUND_EMAIL,
        subject="Your new router",
        description="Hello Carla, your router ships tomorrow.",
        **fields,
    )


def test_an_outbound_email_sends_the_first_message_with_the_ticket_number(agent, pool, customer):
    make_mailbox(pool)
    customer.emails.update(address="carla@example.test")
    [ticket] = open_agent_tickets([_outbound(pool, customer)], actor=agent)
    message = ticket.messages.get()
    assert (message.kind, message.author_user) == (Message.Kind.OUTBOUND, agent)
    outgoing = OutgoingEmail.objects.get(ticket_message=message)
    assert outgoing.to == ["carla@example.test"]
    assert outgoing.subject == f"Your new router [#{ticket.number}]"
    assert "your router ships tomorrow" in outgoing.body_text
    assert ticket.number in outgoing.body_text
    assert f"#{ticket.number}" in outgoing.body_html
    assert outgoing.reply_to  # a signed reply address, as for every reply
    assert not ticket.activity.filter(action=Action.CUSTOMER_MESSAGE).exists()
    assert ticket.activity.get(action=Action.CREATED).actor == agent


def test_the_first_message_speaks_the_customers_language(agent, pool, customer):
    make_mailbox(pool)
    customer.language = "pt-br"
    customer.save()
    customer.emails.update(address="carla@example.test")
    EmailTemplate.objects.create(
        kind=EmailTemplate.Kind.FIRST_MESSAGE,
        language="pt-br",
        subject="Chamado {{ ticket.number }}: {{ ticket.subject }}",
        body_text="{{ message_text }}\nSeu chamado é {{ ticket.number }}.",
    )
    EmailTemplate.objects.create(
        kind=EmailTemplate.Kind.FIRST_MESSAGE,
        language="en",
        subject="English {{ ticket.number }}",
        body_text="English",
    )
    [ticket] = open_agent_tickets([_outbound(pool, customer)], actor=agent)
    outgoing = OutgoingEmail.objects.get(ticket=ticket)
    assert outgoing.subject.startswith(f"Chamado {ticket.number}: Your new router")
    assert f"Seu chamado é {ticket.number}." in outgoing.body_text


def test_an_outbound_email_needs_an_address(agent, pool, customer):
    customer.emails.all().delete()
    with pytest.raises(ValidationError):
        open_agent_tickets([_outbound(pool, customer)], actor=agent)
    assert not customer.tickets.exists()


def test_the_customers_reply_threads_into_the_ticket(agent, pool, customer):
    mailbox = make_mailbox(pool)
    customer.emails.update(address="carla@example.test")
    [ticket] = open_agent_tickets([_outbound(pool, customer)], actor=agent)
    outgoing = OutgoingEmail.objects.get(ticket=ticket)
    reply = EmailMessage()
    reply["From"] = "Carla Cliente <carla@example.test>"
    reply["To"] = "support@helpdesk.test"
    reply["Subject"] = f"Re: {outgoing.subject}"
    reply["Message-ID"] = "<carla-answer@example.test>"
    reply["In-Reply-To"] = outgoing.message_id
    reply.set_content("Thanks, I will be home.")
    [raw] = process_raw_messages([store_raw(mailbox, reply).pk])
    assert raw.ticket == ticket
    assert ticket.messages.filter(kind=Message.Kind.INBOUND).get().author_contact == customer
    assert customer.tickets.count() == 1


def test_a_juniors_outbound_email_waits_for_approval(junior, supervisor, pool, customer):
    make_mailbox(pool)
    customer.emails.update(address="carla@example.test")
    [ticket] = open_agent_tickets([_outbound(pool, customer)], actor=junior)
    message = ticket.messages.get()
    assert message.approval == Approval.PENDING
    assert not OutgoingEmail.objects.exists()
    approve_reply(message, actor=supervisor)
    outgoing = OutgoingEmail.objects.get(ticket_message=message)
    assert ticket.number in outgoing.body_text
    assert outgoing.subject == f"Your new router [#{ticket.number}]"


def test_a_later_reply_on_an_outbound_ticket_is_a_plain_reply(agent, pool, customer):
    from tickets.services import add_reply

    make_mailbox(pool)
    customer.emails.update(address="carla@example.test")
    [ticket] = open_agent_tickets([_outbound(pool, customer)], actor=agent)
    second = add_reply(ticket, author=agent, body="One more thing.")
    outgoing = OutgoingEmail.objects.get(ticket_message=second)
    assert outgoing.subject == f"Re: Your new router [#{ticket.number}]"
    assert outgoing.body_text.startswith("One more thing.")
