"""A consulted department may answer into a ticket; nobody else may use that door.

Department answers thread on our question's Message-ID from an address that is not a
participant, so mailboxes lets the sla app claim them. The claim is narrow: only the
address of a department with an open consultation on that very ticket, and only while it
is open. Everyone else, and the department afterwards, gets a new linked ticket.
"""

import pytest

from people.models import Department
from sla.models import Consultation
from sla.services import start_consultation
from tests.mailboxes.test_processing import build_mail, receive
from tickets.models import Message, Ticket


@pytest.fixture
def asked(mailbox, agent):
    ticket = receive(mailbox, build_mail(message_id="<carla-1@example.test>")).ticket
    legal = Department.objects.create(name="Legal", email="legal@acme.test")
    consultation = start_consultation(ticket, department=legal, question="OK?", actor=agent)
    return consultation, consultation.question.message_id


def _reply(mailbox, sender, in_reply_to, *, message_id, subject="Re: question"):
    return receive(
        mailbox,
        build_mail(
            sender=sender,
            subject=subject,
            message_id=message_id,
            headers={"In-Reply-To": in_reply_to, "References": in_reply_to},
        ),
    )


def test_a_stranger_replying_to_the_question_gets_a_linked_ticket(mailbox, asked):
    consultation, question_id = asked

    raw = _reply(mailbox, "Mallory <mallory@evil.test>", question_id, message_id="<m@evil.test>")

    assert raw.ticket != consultation.ticket
    assert raw.ticket.linked_tickets.filter(pk=consultation.ticket.pk).exists()
    assert Consultation.objects.get().state == "open"


def test_the_department_of_another_ticket_cannot_answer_into_this_one(mailbox, asked, agent):
    consultation, question_id = asked
    other = receive(mailbox, build_mail(message_id="<other@example.test>", subject="Other")).ticket
    finance = Department.objects.create(name="Finance", email="finance@acme.test")
    start_consultation(other, department=finance, question="?", actor=agent)

    raw = _reply(mailbox, "Finance <finance@acme.test>", question_id, message_id="<f@acme.test>")

    assert raw.ticket not in (consultation.ticket, other)
    assert not Message.objects.filter(
        ticket=consultation.ticket, author_contact__emails__address="finance@acme.test"
    ).exists()


def test_once_answered_the_department_is_no_participant(mailbox, asked):
    consultation, question_id = asked
    first = _reply(mailbox, "Legal <legal@acme.test>", question_id, message_id="<l1@acme.test>")
    assert first.ticket == consultation.ticket
    assert first.ticket_message.kind == Message.Kind.CONSULTATION

    again = _reply(mailbox, "Legal <legal@acme.test>", question_id, message_id="<l2@acme.test>")

    assert again.ticket != consultation.ticket
    assert Ticket.objects.count() == 2
    assert Message.objects.filter(ticket=consultation.ticket, kind="inbound").count() == 1


def test_a_department_answer_is_never_taken_for_the_customers_message(mailbox, asked):
    _consultation, question_id = asked

    raw = _reply(mailbox, "Legal <legal@acme.test>", question_id, message_id="<l3@acme.test>")

    assert raw.ticket_message.kind == Message.Kind.CONSULTATION
    # The customer's reply thread is untouched: still one customer message.
    assert raw.ticket.messages.filter(kind=Message.Kind.INBOUND).count() == 1
