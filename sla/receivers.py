"""Reactions to ticket and mail events. Bodies stay thin: they call services.

The domain events arrive after the ticket's transaction committed. A failure in here
must not turn a committed reply or status change into an error page, so it is logged
with its traceback instead (the next event on the ticket recomputes its deadlines).
"""

import functools
import logging

from mailboxes import signals as mail_signals
from tickets import signals
from tickets.models import Message
from tickets.states import Status

logger = logging.getLogger(__name__)


def _logged(receiver):
    @functools.wraps(receiver)
    def wrapper(sender, **kwargs):
        try:
            return receiver(sender, **kwargs)
        except Exception:
            ticket = kwargs.get("ticket")
            logger.exception(
                "sla.receiver_failed %s ticket=%s", receiver.__name__, ticket and ticket.pk
            )
            return None

    return wrapper


@_logged
def _ticket_created(sender, ticket, batched=False, **kwargs):
    from sla.services import apply_policy

    if not batched:  # else tickets_created_in_batch applies it, with the whole batch
        apply_policy(ticket.pk)


def _tickets_created_in_batch(sender, tickets, **kwargs):
    from sla.services import apply_policies

    try:
        apply_policies([ticket.pk for ticket in tickets])
    except Exception:
        # Rolled back whole: each ticket gets its own try, so one bad ticket only fails itself.
        logger.exception("sla.batch_failed apply_policies tickets=%d", len(tickets))
        for ticket in tickets:
            _ticket_created(sender, ticket=ticket)


@_logged
def _ticket_updated(sender, ticket, field, batched=False, **kwargs):
    from sla.services import apply_policy

    # batched: a ticket of tickets_created_in_batch, whose policy fits it as it was routed.
    if field in ("priority", "topic", "pool") and not batched:
        apply_policy(ticket.pk)


@_logged
def _status_changed(sender, ticket, before, after, batched=False, **kwargs):
    from sla.services import follow_status

    # batched: a new ticket of tickets_created_in_batch taken by routing; apply_policies
    # started its clocks for the status it ended in (taking a ticket changes no clock).
    if not batched:
        follow_status(ticket.pk, before=before, after=after)


@_logged
def _reply_ready(sender, ticket, message, **kwargs):
    from sla.services import follow_reply

    # Sent once a reply may leave: at once, or when a supervisor approves a junior's reply
    # (a pending one counts for nothing). The response is met then, at the approval time:
    # that is when the customer gets it.
    follow_reply(ticket.pk)


def _starts_next_response(ticket, message) -> bool:
    return message.kind == Message.Kind.INBOUND and ticket.status != Status.CLOSED


def _message_added(sender, ticket, message, batched=False, **kwargs):
    if not batched and _starts_next_response(ticket, message):
        _follow_customer_message(sender, ticket=ticket)


@_logged
def _follow_customer_message(sender, ticket, **kwargs):
    from sla.services import follow_customer_message

    follow_customer_message(ticket.pk)


def _messages_added_in_batch(sender, added, **kwargs):
    from sla.services import follow_customer_messages

    tickets = {
        ticket.pk: ticket for ticket, message in added if _starts_next_response(ticket, message)
    }
    if not tickets:
        return
    try:
        follow_customer_messages(list(tickets))
    except Exception:
        logger.exception("sla.batch_failed follow_customer_messages tickets=%d", len(tickets))
        for ticket in tickets.values():
            _follow_customer_message(sender, ticket=ticket)


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


@_logged
def _auto_reply_context(sender, ticket, mailbox, shared=None, **kwargs):
    from sla.services.clocks import out_of_hours_text

    text = out_of_hours_text(ticket, shared=shared)
    return {"out_of_hours": text} if text else {}


def connect() -> None:
    signals.ticket_created.connect(_ticket_created, dispatch_uid="sla-ticket-created")
    signals.ticket_updated.connect(_ticket_updated, dispatch_uid="sla-ticket-updated")
    signals.status_changed.connect(_status_changed, dispatch_uid="sla-status-changed")
    signals.reply_ready.connect(_reply_ready, dispatch_uid="sla-reply-ready")
    signals.message_added.connect(_message_added, dispatch_uid="sla-message-added")
    signals.tickets_created_in_batch.connect(
        _tickets_created_in_batch, dispatch_uid="sla-tickets-created-in-batch"
    )
    signals.messages_added_in_batch.connect(
        _messages_added_in_batch, dispatch_uid="sla-messages-added-in-batch"
    )
    mail_signals.reply_from_outsider.connect(
        _reply_from_outsider, dispatch_uid="sla-consultation-answer"
    )
    mail_signals.expects_reply_from.connect(
        _expects_reply_from, dispatch_uid="sla-expects-consultation-answer"
    )
    mail_signals.auto_reply_context.connect(_auto_reply_context, dispatch_uid="sla-out-of-hours")
