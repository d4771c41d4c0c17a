"""process_raw_messages([id]): a stored mail becomes a ticket or a reply, or says why not."""

import hashlib
from email.message import EmailMessage

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mailboxes.models import Mailbox, RawMessage
from mailboxes.processing import process_raw_messages
from people.models import ContactEmail
from tests.concurrency import run_at_once
from tests.factories import make_mailbox
from tickets import services
from tickets.models import ActivityLog, Attachment, Message, Ticket
from tickets.states import Status

State = RawMessage.State


def build_mail(
    *,
    sender="Carla Cliente <carla@example.test>",
    to="support@helpdesk.test",
    cc="",
    subject="Printer on fire",
    body="Hello, the printer is on fire.\n",
    message_id="<first@example.test>",
    headers=None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    if message_id:
        message["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    return message


def store_raw(mailbox: Mailbox, data: bytes | EmailMessage) -> RawMessage:
    """A RawMessage as the fetcher leaves it: bytes in storage, state new."""
    if isinstance(data, EmailMessage):
        data = data.as_bytes()
    digest = hashlib.sha256(data).hexdigest()
    raw = RawMessage(
        mailbox=mailbox,
        uid=digest,
        message_id=f"<{digest}@sha256>",
        sha256=digest,
        size=len(data),
    )
    raw.file.save(f"{digest}.eml", ContentFile(data), save=False)
    raw.save()
    return raw


def receive(mailbox: Mailbox, data) -> RawMessage:
    return process_raw_messages([store_raw(mailbox, data).pk])[0]


def test_a_new_mail_becomes_a_ticket_in_the_mailbox_pool(mailbox, pool):
    raw = receive(mailbox, build_mail())
    assert raw.state == State.PROCESSED
    ticket = raw.ticket
    assert ticket.pool == pool
    assert ticket.subject == "Printer on fire"
    assert ticket.channel == "email"
    assert ticket.requester.name == "Carla Cliente"
    assert ContactEmail.objects.get(address="carla@example.test").contact == ticket.requester
    message = raw.ticket_message
    assert message.kind == Message.Kind.INBOUND
    assert message.message_id == "<first@example.test>"
    assert "on fire" in message.body_text
    assert raw.attempts == 1
    assert raw.processed_at is not None


def test_processing_the_same_raw_message_twice_makes_one_ticket(mailbox):
    raw = store_raw(mailbox, build_mail())
    process_raw_messages([raw.pk])[0]
    again = process_raw_messages([raw.pk])[0]
    assert Ticket.objects.count() == 1
    assert again.attempts == 1


def test_the_same_mail_through_two_mailboxes_is_a_duplicate(mailbox, pool):
    other = make_mailbox(pool, name="Sales", address="sales@helpdesk.test")
    receive(mailbox, build_mail())
    raw = receive(other, build_mail(to="sales@helpdesk.test"))
    assert (raw.state, raw.reason) == (State.IGNORED, RawMessage.Reason.DUPLICATE)
    assert Ticket.objects.count() == 1


def test_attachments_are_stored_with_the_message(mailbox):
    mail = build_mail()
    mail.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="x.pdf")
    mail.add_attachment(b"col1,col2\n", maintype="text", subtype="csv", filename="data.csv")
    raw = receive(mailbox, mail)
    names = sorted(Attachment.objects.filter(message=raw.ticket_message).values_list("filename"))
    assert names == [("data.csv",), ("x.pdf",)]
    pdf = Attachment.objects.get(filename="x.pdf")
    assert pdf.content_type == "application/pdf"
    with pdf.file.open("rb") as stored:
        assert stored.read() == b"%PDF-1.4 fake"


def test_a_mail_without_a_usable_sender_is_kept_as_ignored(mailbox):
    raw = receive(mailbox, build_mail(sender="alice@a.test <mallory@evil.test>"))
    assert (raw.state, raw.reason) == (State.IGNORED, RawMessage.Reason.NO_SENDER)
    assert raw.error
    assert Ticket.objects.count() == 0


def test_a_customer_reply_reopens_a_closed_ticket(mailbox, agent):
    first = receive(mailbox, build_mail())
    ticket = first.ticket
    services.change_status(ticket, to=Status.IN_PROGRESS, actor=agent)
    services.change_status(ticket, to=Status.RESOLVED, actor=agent)
    services.change_status(ticket, to=Status.CLOSED, actor=agent)
    reply = build_mail(
        subject=f"Re: [#{ticket.number}] Printer on fire",
        message_id="<second@example.test>",
        headers={"In-Reply-To": "<first@example.test>"},
    )
    raw = receive(mailbox, reply)
    ticket.refresh_from_db()
    assert raw.ticket == ticket
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.reopen_count == 1
    assert ActivityLog.objects.filter(ticket=ticket, action=ActivityLog.Action.REOPENED).exists()


def test_unparsable_storage_leaves_the_message_failed_with_the_error(mailbox):
    raw = store_raw(mailbox, build_mail())
    raw.file.delete(save=True)
    raw = process_raw_messages([raw.pk])[0]
    assert raw.state == State.FAILED
    assert raw.error
    assert Ticket.objects.count() == 0
    raw.file.save("again.eml", ContentFile(build_mail().as_bytes()))
    raw = process_raw_messages([raw.pk])[0]  # a failed message may be reprocessed
    assert raw.state == State.PROCESSED
    assert raw.attempts == 2


def test_a_new_mail_costs_a_bounded_number_of_queries(mailbox):
    receive(mailbox, build_mail(sender="warm@example.test", message_id="<warm@x.test>"))
    raw = store_raw(mailbox, build_mail())
    with CaptureQueriesContext(connection) as new_ticket:
        process_raw_messages([raw.pk])[0]
    reply = store_raw(
        mailbox,
        build_mail(
            message_id="<second@example.test>", headers={"In-Reply-To": "<first@example.test>"}
        ),
    )
    with CaptureQueriesContext(connection) as threaded:
        assert process_raw_messages([reply.pk])[0].state == State.PROCESSED
    print(f"queries: new ticket {len(new_ticket)}, reply {len(threaded)}")
    # New ticket: claim; known ids + mailbox addresses; contact (+ savepoint, 2 inserts and
    # release for a new one); number; ticket; touch ticket; message; catalog; pool members;
    # auto-reply (8, one of them the suppressed-address check); raw row; activity rows (one
    # INSERT); the test's savepoint pair.
    # Reply: claim; stored originals still new; ids; thread (messages, outbox, tickets);
    # contact; lock and touch; message; activity; raw row; savepoints (the test's pair and
    # receive_customer_messages' pair: it is a plain transaction.atomic service). A batch of
    # one pays each per-batch lookup once, as a batch of fifty does (test_batch_processing.py).
    assert len(new_ticket) <= 25
    assert len(threaded) <= 16


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_the_same_message_make_one_ticket(pool):
    raw = store_raw(make_mailbox(pool), build_mail())
    run_at_once([lambda: process_raw_messages([raw.pk])[0]] * 4, timeout=60)
    raw.refresh_from_db()
    assert (raw.state, raw.attempts) == (State.PROCESSED, 1)
    assert Ticket.objects.count() == 1
    assert Message.objects.count() == 1
