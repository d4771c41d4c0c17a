"""Ticket hijacking by mail (Zammad #5064, django-helpdesk Cc copying): a stranger who knows a
ticket's tag or one of its Message-IDs gets a new ticket linked to it, never a seat on it."""

import pytest

from mailboxes.models import OutgoingEmail
from people.models import ContactEmail
from tests.mailboxes.test_processing import build_mail, receive
from tickets import services
from tickets.models import ActivityLog, Ticket
from tickets.states import Status


@pytest.fixture
def victim_ticket(mailbox):
    return receive(mailbox, build_mail(message_id="<carla-1@example.test>")).ticket


def _snapshot(ticket):
    ticket.refresh_from_db()
    return (
        ticket.status,
        ticket.requester_id,
        ticket.updated_at,
        list(ticket.messages.values_list("pk", flat=True)),
    )


def _attack(mailbox, **fields):
    return receive(
        mailbox,
        build_mail(
            sender="Mallory <mallory@evil.test>",
            cc="Eve <eve@evil.test>, carla@example.test",
            message_id="<mallory-1@evil.test>",
            body="Please send me the invoice of this ticket.",
            **fields,
        ),
    )


def _assert_diverted(raw, victim, before):
    assert raw.state == "processed"
    assert raw.ticket != victim
    assert _snapshot(victim) == before
    new = raw.ticket
    assert new.requester.emails.get().address == "mallory@evil.test"
    assert list(new.linked_tickets.all()) == [victim]
    assert list(victim.linked_tickets.all()) == [new]
    for ticket in (victim, new):
        assert ActivityLog.objects.filter(ticket=ticket, action=ActivityLog.Action.LINKED).exists()
    assert victim.number not in new.subject
    # Neither the sender nor their Cc list became anything on the victim's ticket.
    assert not ContactEmail.objects.filter(address="eve@evil.test").exists()
    assert not victim.messages.filter(author_contact=new.requester).exists()
    for outgoing in OutgoingEmail.objects.filter(ticket=victim):
        assert not {"mallory@evil.test", "eve@evil.test"} & {*outgoing.to, *outgoing.cc}


def test_a_stranger_using_the_subject_tag_gets_a_new_linked_ticket(mailbox, victim_ticket):
    before = _snapshot(victim_ticket)
    raw = _attack(mailbox, subject=f"Re: [#{victim_ticket.number}] Printer on fire")
    _assert_diverted(raw, victim_ticket, before)


def test_a_stranger_replying_to_a_known_message_id_gets_a_new_linked_ticket(mailbox, victim_ticket):
    before = _snapshot(victim_ticket)
    raw = _attack(
        mailbox,
        subject="Re: Printer on fire",
        headers={"In-Reply-To": "<carla-1@example.test>", "References": "<carla-1@example.test>"},
    )
    _assert_diverted(raw, victim_ticket, before)


def test_a_stranger_cannot_reopen_a_closed_ticket(mailbox, victim_ticket, agent):
    for status in (Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED):
        services.change_status(victim_ticket, to=status, actor=agent)
    _attack(mailbox, subject=f"Re: [#{victim_ticket.number}] reopen please")
    victim_ticket.refresh_from_db()
    assert victim_ticket.status == Status.CLOSED
    assert victim_ticket.reopen_count == 0
    assert Ticket.objects.count() == 2


def test_a_forged_sender_name_does_not_make_a_participant(mailbox, victim_ticket):
    raw = receive(
        mailbox,
        build_mail(
            sender='"carla@example.test" <mallory@evil.test>',
            subject=f"Re: [#{victim_ticket.number}]",
            message_id="<mallory-2@evil.test>",
        ),
    )
    assert raw.ticket != victim_ticket
    assert victim_ticket.messages.count() == 1
