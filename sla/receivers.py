"""Reactions to ticket and mail events. Bodies stay thin: they call services.

The domain events arrive as lists after the ticket's transaction committed; a failure in
here is logged by ``send_robust`` (the next event on the ticket recomputes its deadlines)
and never stops the other receivers. The mail hooks are asked inside the transaction.
"""

import logging

from mailboxes import signals as mail_signals
from tickets import signals
from tickets.models import Message
from tickets.states import Status

logger = logging.getLogger(__name__)


def _tickets_created(sender, tickets, **kwargs):
    from sla.models import SlaPolicy
    from sla.services import apply_policies

    # A ticket just opened has no deadline yet: without an active policy there is nothing
    # to start, and one small query spares the batch's locks and reads.
    if SlaPolicy.objects.filter(active=True).exists():
        apply_policies([ticket.pk for ticket in tickets])


def _tickets_updated(sender, changes, **kwargs):
    from sla.services import apply_policies

    moved = [c.ticket.pk for c in changes if c.field in ("priority", "topic", "pool")]
    if moved:
        apply_policies(moved)


def _statuses_changed(sender, changes, **kwargs):
    from sla.services import follow_statuses

    follow_statuses([(change.ticket.pk, change.before, change.after) for change in changes])


def _replies_ready(sender, messages, **kwargs):
    from sla.services import follow_replies

    # Sent once a reply may leave: at once, or when a supervisor approves a junior's reply
    # (a pending one counts for nothing). The response is met then, at the approval time:
    # that is when the customer gets it.
    follow_replies([message.ticket_id for message in messages])


def _messages_added(sender, messages, **kwargs):
    from sla.services import follow_customer_messages

    # A next-response clock starts only after our first answer: a ticket that had none when
    # the message was stored (every message of a chat nobody answered yet) needs no query.
    tickets = [
        message.ticket.pk
        for message in messages
        if message.kind == Message.Kind.INBOUND
        and message.ticket.status != Status.CLOSED
        and message.ticket.first_response_at is not None
    ]
    if tickets:
        follow_customer_messages(tickets)


def _reply_from_outsider(sender, ticket, from_address, contact, **kwargs):
    # Inside the mail transaction: an error here must fail the message (it is kept as
    # failed and can be reprocessed), never half-store it, so it is not caught.
    from sla.services import consultation_answer_from, record_consultation_answer

    consultation = consultation_answer_from(ticket, from_address)
    if consultation is None:
        return None
    return record_consultation_answer(
        consultation,
        contact=contact,
        body_text=kwargs["body_text"],
        body_html=kwargs["body_html"],
        files=kwargs["files"],
        message_id=kwargs["message_id"],
    )


def _expects_reply_from(sender, ticket, from_address, **kwargs):
    from sla.services import consultation_answer_from

    return consultation_answer_from(ticket, from_address) is not None


def _auto_reply_context(sender, ticket, mailbox, shared=None, **kwargs):
    from sla.services.clocks import out_of_hours_text

    # A nicety of the auto-reply: a broken calendar must not hold up the mail.
    try:
        text = out_of_hours_text(ticket, shared=shared)
    except Exception:
        logger.exception("sla.receiver_failed _auto_reply_context ticket=%s", ticket.pk)
        return {}
    return {"out_of_hours": text} if text else {}


def connect() -> None:
    signals.tickets_created.connect(_tickets_created, dispatch_uid="sla-tickets-created")
    signals.tickets_updated.connect(_tickets_updated, dispatch_uid="sla-tickets-updated")
    signals.statuses_changed.connect(_statuses_changed, dispatch_uid="sla-statuses-changed")
    signals.replies_ready.connect(_replies_ready, dispatch_uid="sla-replies-ready")
    signals.messages_added.connect(_messages_added, dispatch_uid="sla-messages-added")
    mail_signals.reply_from_outsider.connect(
        _reply_from_outsider, dispatch_uid="sla-consultation-answer"
    )
    mail_signals.expects_reply_from.connect(
        _expects_reply_from, dispatch_uid="sla-expects-consultation-answer"
    )
    mail_signals.auto_reply_context.connect(_auto_reply_context, dispatch_uid="sla-out-of-hours")
