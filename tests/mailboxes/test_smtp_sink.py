"""Our replies reach a real SMTP server (aiosmtpd) with the headers mail clients thread on."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from mailboxes import outbound
from mailboxes.models import Mailbox, OutgoingEmail
from mailboxes.tokens import ticket_pk_from_address
from tests.mailboxes.smtp_sink import SmtpSink, free_port, mailers_for, running_sink
from tickets import services
from tickets.models import ActivityLog, Approval, Message

State = OutgoingEmail.State
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def down_sink(settings):
    """Django pointed at a port where the sink is not running (yet)."""
    sink = SmtpSink(port=free_port())
    settings.MAILERS = mailers_for(sink.port)
    return sink


@pytest.fixture
def mailbox(pool):
    return Mailbox.objects.create(
        name="Billing", pool=pool, from_address="billing@acme.test", from_name="Acme Billing"
    )


@pytest.fixture
def ticket(pool, customer, mailbox):
    ticket = services.create_ticket(subject="Invoice charged twice", pool=pool, requester=customer)
    services.add_customer_message(
        ticket, contact=customer, body_text="Twice!", message_id="<first@customer.test>"
    )
    return ticket


def _due_later(outgoing):
    # Jump past the back-off instead of sleeping.
    OutgoingEmail.objects.filter(pk=outgoing.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1)
    )


def test_reply_arrives_with_threading_headers_signature_image_and_attachments(
    sink, agent, ticket, customer
):
    profile = agent.agent_profile
    profile.signature_text = "Ana, Acme Billing"
    profile.signature_image.save("sig.png", ContentFile(PNG))
    message = services.add_reply(
        ticket,
        author=agent,
        body="We refunded the second charge.",
        files=[SimpleUploadedFile("receipt.pdf", b"%PDF-1.4 receipt", "application/pdf")],
    )
    outgoing = outbound.queue_reply(message)

    assert outbound.send_outgoing_emails([outgoing.pk]) == {outgoing.pk}

    [envelope] = sink.envelopes
    assert envelope.rcpt_tos == [customer.primary_email]
    mail = envelope.message
    outgoing.refresh_from_db()
    message.refresh_from_db()
    assert mail["Message-ID"] == outgoing.message_id == message.message_id
    assert mail["In-Reply-To"] == "<first@customer.test>"
    assert "<first@customer.test>" in mail["References"]
    assert ticket_pk_from_address(mail["Reply-To"]) == ticket.pk
    assert mail["Subject"] == f"Re: Invoice charged twice [#{ticket.number}]"
    assert mail["From"] == "Acme Billing <billing@acme.test>"
    assert mail["Auto-Submitted"] is None
    assert "Ana, Acme Billing" in mail.get_body(("plain",)).get_content()
    [image] = [part for part in mail.walk() if part.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<signature@acme.test>"
    assert image.get_content() == PNG
    assert 'src="cid:signature@acme.test"' in mail.get_body(("html",)).get_content()
    [attachment] = list(mail.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content()) == (
        "receipt.pdf",
        b"%PDF-1.4 receipt",
    )
    assert outgoing.state == State.SENT
    assert ticket.activity.filter(action=ActivityLog.Action.MAIL_SENT).count() == 1


def test_with_the_sink_down_the_row_waits_to_retry_and_is_delivered_once_when_back(
    down_sink, agent, ticket
):
    outgoing = outbound.queue_reply(services.add_reply(ticket, author=agent, body="Refunded."))

    assert outbound.send_outgoing_emails([outgoing.pk]) == set()  # no exception escapes

    outgoing.refresh_from_db()
    assert (outgoing.state, outgoing.attempts) == (State.RETRY, 1)
    assert outgoing.next_attempt_at > timezone.now()
    assert "Connection" in outgoing.last_error or "refused" in outgoing.last_error.lower()
    assert outbound.send_outgoing_emails([outgoing.pk]) == set()  # not due yet: untouched
    with running_sink(down_sink):
        _due_later(outgoing)
        assert outbound.due_outgoing_ids() == [outgoing.pk]
        assert outbound.send_outgoing_emails([outgoing.pk]) == {outgoing.pk}
        assert outbound.send_outgoing_emails([outgoing.pk]) == set()
        _due_later(outgoing)
        assert outbound.send_outgoing_emails([outgoing.pk]) == set()
    assert len(down_sink.envelopes) == 1
    outgoing.refresh_from_db()
    assert (outgoing.state, outgoing.attempts) == (State.SENT, 2)


def test_sending_twice_never_sends_twice(sink, agent, ticket):
    outgoing = outbound.queue_reply(services.add_reply(ticket, author=agent, body="Done."))

    results = [outbound.send_outgoing_emails([outgoing.pk]) for _ in range(3)]

    assert results == [{outgoing.pk}, set(), set()]
    assert len(sink.envelopes) == 1
    assert outbound.due_outgoing_ids() == []


def test_junior_reply_is_sent_once_only_after_approval(
    sink, eager_tasks, client, junior, supervisor, ticket, django_capture_on_commit_callbacks
):
    client.force_login(junior)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("tickets:reply", args=[ticket.number]), {"body": "Draft answer"})
    message = ticket.messages.get(kind=Message.Kind.OUTBOUND)
    assert message.approval == Approval.PENDING
    assert sink.envelopes == []
    assert not OutgoingEmail.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        services.approve_reply(message, actor=supervisor, body="Approved answer")

    [mail] = sink.messages
    assert "Approved answer" in mail.get_body(("plain",)).get_content()
    outgoing = OutgoingEmail.objects.get()
    assert outbound.queue_reply(message) == outgoing
    assert outbound.send_outgoing_emails([outgoing.pk]) == set()
    assert len(sink.envelopes) == 1


def test_returned_reply_is_never_sent(sink, junior, supervisor, ticket):
    message = services.add_reply(ticket, author=junior, body="Draft")
    services.return_reply(message, actor=supervisor, comment="Too short")

    assert outbound.queue_reply(message) is None
    assert outbound.due_outgoing_ids() == []
    assert sink.envelopes == []


def test_auto_reply_reaches_the_customer_marked_as_automatic(sink, ticket, mailbox, customer):
    [outgoing] = outbound.queue_auto_replies(
        [
            outbound.AutoReplyRequest(
                ticket=ticket,
                mailbox=mailbox,
                to_address=customer.primary_email,
                may_auto_reply=True,
            )
        ]
    )

    assert outbound.send_outgoing_emails([outgoing.pk]) == {outgoing.pk}

    [mail] = sink.messages
    assert mail["Auto-Submitted"] == "auto-replied"
    assert mail["X-Auto-Response-Suppress"] == "All"
    assert mail["In-Reply-To"] == "<first@customer.test>"
    assert f"[#{ticket.number}]" in mail["Subject"]
    assert ticket_pk_from_address(mail["Reply-To"]) == ticket.pk
