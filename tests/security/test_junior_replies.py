"""No route sends a junior agent's reply before a supervisor approves it."""

import pytest
from django.urls import reverse
from django.utils import timezone

from mailboxes import outbound
from mailboxes.models import Mailbox, OutgoingEmail
from tickets import services
from tickets.models import Approval, Message

State = OutgoingEmail.State


@pytest.fixture
def ticket(pool, customer):
    Mailbox.objects.create(name="Billing", pool=pool, from_address="billing@acme.test")
    return services.create_ticket(subject="Refund", pool=pool, requester=customer)


def _forged_row(message):
    """An outbox row for ``message`` as a bug or a hand-made insert could leave it."""
    return OutgoingEmail.objects.create(
        ticket=message.ticket,
        ticket_message=message,
        from_address="billing@acme.test",
        to=["customer@example.test"],
        subject="forged",
        body_text=message.body_text,
        message_id=f"<forged-{message.pk}@acme.test>",
    )


def test_the_reply_form_of_a_junior_sends_nothing(
    client, junior, ticket, mailoutbox, eager_tasks, django_capture_on_commit_callbacks
):
    client.force_login(junior)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("tickets:reply", args=[ticket.number]), {"body": "Hi"})
    assert response.status_code == 302
    assert ticket.messages.get(kind=Message.Kind.OUTBOUND).approval == Approval.PENDING
    assert not OutgoingEmail.objects.exists()
    assert mailoutbox == []


@pytest.mark.parametrize("returned", [False, True])
def test_calling_queue_reply_directly_queues_nothing(junior, supervisor, ticket, returned):
    message = services.add_reply(ticket, author=junior, body="Hi")
    if returned:
        services.return_reply(message, actor=supervisor, comment="No")
    stale = Message.objects.get(pk=message.pk)
    stale.approval = Approval.APPROVED  # a caller holding a wrong in-memory copy
    assert outbound.queue_reply(stale) is None
    assert not OutgoingEmail.objects.exists()


def test_a_forged_outbox_row_for_a_pending_reply_is_refused_at_send_time(
    junior, ticket, mailoutbox
):
    message = services.add_reply(ticket, author=junior, body="Hi")
    row = _forged_row(message)

    assert outbound.send_outgoing_emails([row.pk]) == set()

    row.refresh_from_db()
    assert (row.state, row.last_error) == (State.FAILED, outbound.NOT_APPROVED)
    assert mailoutbox == []
    assert outbound.due_outgoing_ids() == []


def test_retries_of_a_reply_that_lost_its_approval_never_send(
    junior, supervisor, ticket, mailoutbox
):
    message = services.add_reply(ticket, author=junior, body="Hi")
    row = _forged_row(message)
    OutgoingEmail.objects.filter(pk=row.pk).update(state=State.RETRY, attempts=3)
    for _ in range(3):
        OutgoingEmail.objects.filter(pk=row.pk, state=State.FAILED).update(
            state=State.RETRY, next_attempt_at=timezone.now()
        )
        assert outbound.send_outgoing_emails([row.pk]) == set()
    assert mailoutbox == []


def test_after_approval_the_real_reply_replaces_a_blocked_row_and_is_sent_once(
    junior, supervisor, ticket, mailoutbox
):
    message = services.add_reply(ticket, author=junior, body="Hi")
    outbound.send_outgoing_emails([_forged_row(message).pk])
    services.approve_reply(message, actor=supervisor)

    outgoing = outbound.queue_reply(message)

    assert outgoing.subject.startswith("Re: Refund")
    assert OutgoingEmail.objects.count() == 1
    assert outbound.send_outgoing_emails([outgoing.pk]) == {outgoing.pk}
    assert outbound.send_outgoing_emails([outgoing.pk]) == set()
    assert len(mailoutbox) == 1
