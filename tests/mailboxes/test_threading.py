"""Replies join their ticket: by our Message-IDs, by a signed reply address, by the tag."""

import pytest

from mailboxes.models import OutgoingEmail
from mailboxes.tokens import make_reply_address
from tests.mailboxes.test_processing import build_mail, receive
from tickets.models import Message, Ticket


@pytest.fixture
def ticket(mailbox):
    return receive(mailbox, build_mail(message_id="<first@example.test>")).ticket


def _reply(**fields):
    fields.setdefault("subject", "Re: Printer on fire")
    fields.setdefault("message_id", "<reply@example.test>")
    return build_mail(**fields)


def _assert_threaded(raw, ticket, via_count=2):
    assert raw.state == "processed"
    assert raw.ticket == ticket
    assert Ticket.objects.count() == 1
    assert ticket.messages.filter(kind=Message.Kind.INBOUND).count() == via_count


def test_a_reply_threads_by_in_reply_to(mailbox, ticket):
    raw = receive(mailbox, _reply(headers={"In-Reply-To": "<first@example.test>"}))
    _assert_threaded(raw, ticket)


def test_a_reply_threads_by_references_when_in_reply_to_is_unknown(mailbox, ticket):
    raw = receive(
        mailbox,
        _reply(
            headers={
                "In-Reply-To": "<unknown@elsewhere.test>",
                "References": "<first@example.test> <unknown@elsewhere.test>",
            }
        ),
    )
    _assert_threaded(raw, ticket)


def test_a_reply_to_our_outbound_mail_threads_by_its_message_id(mailbox, ticket, agent):
    OutgoingEmail.objects.create(
        ticket=ticket,
        from_address="support@helpdesk.test",
        to=["carla@example.test"],
        subject="Re: Printer on fire",
        body_text="We are on it.",
        message_id="<ours-1@helpdesk.test>",
    )
    raw = receive(mailbox, _reply(headers={"In-Reply-To": "<ours-1@helpdesk.test>"}))
    _assert_threaded(raw, ticket)


def test_a_reply_to_our_reply_message_threads_by_its_stored_message_id(mailbox, ticket, agent):
    Message.objects.create(
        ticket=ticket, kind=Message.Kind.OUTBOUND, body_text="ok", message_id="<reply-9@h.test>"
    )
    raw = receive(mailbox, _reply(headers={"References": "<reply-9@h.test>"}))
    _assert_threaded(raw, ticket)


def test_a_reply_to_the_signed_address_threads_even_from_a_new_address(mailbox, ticket):
    address = make_reply_address("support@helpdesk.test", ticket.pk)
    raw = receive(
        mailbox,
        _reply(sender="Carla at home <carla@home.test>", to=address, subject="no tag here"),
    )
    _assert_threaded(raw, ticket)


def test_a_forged_reply_address_does_not_thread(mailbox, ticket):
    forged = f"support+t{ticket.pk}-0000000000@helpdesk.test"
    raw = receive(mailbox, _reply(to=forged, subject="no tag here"))
    assert raw.ticket != ticket
    assert Ticket.objects.count() == 2


def test_the_requester_threads_by_the_subject_tag(mailbox, ticket):
    raw = receive(mailbox, _reply(subject=f"Re: [#{ticket.number}] Printer on fire"))
    _assert_threaded(raw, ticket)


def test_a_mail_to_a_merged_ticket_lands_on_the_ticket_it_was_merged_into(mailbox, ticket, pool):
    target = receive(mailbox, build_mail(subject="Other", message_id="<other@example.test>")).ticket
    Ticket.objects.filter(pk=ticket.pk).update(merged_into=target)
    raw = receive(mailbox, _reply(headers={"In-Reply-To": "<first@example.test>"}))
    assert raw.ticket == target
