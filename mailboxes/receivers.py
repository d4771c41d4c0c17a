"""Reactions to ticket events. Bodies stay thin: they call services."""

import logging

from people import signals as people_signals
from tickets import signals
from tickets.models import Message
from tickets.panels import AGENT
from tickets.states import Status

logger = logging.getLogger(__name__)


def _queue_reply(sender, ticket, actor, message, **kwargs):
    from mailboxes.outbound import queue_reply

    queue_reply(message)


def _notify(event, ticket, actor, **kwargs):
    from mailboxes.notifications import notify

    # Best effort: the change is committed already; a broken template or rule must not turn
    # the agent's or customer's successful action into an error page.
    try:
        notify(event, ticket_id=ticket.pk, pool_id=ticket.pool_id, actor=actor, **kwargs)
    except Exception:
        logger.exception("notification %s for ticket %s failed", event, ticket.pk)


def _on_ticket_created(sender, ticket, actor, batched=False, **kwargs):
    if not batched:  # else _on_tickets_created_in_batch tells it
        _notify("ticket_opened", ticket, actor)


def _on_tickets_created_in_batch(sender, tickets, actor, **kwargs):
    from mailboxes.notifications import notify_tickets_opened

    try:
        notify_tickets_opened(tickets, actor=actor)  # each ticket's failure is its own
    except Exception:
        logger.exception("notification ticket_opened for %d tickets failed", len(tickets))


# Status changes that are events of their own in the notification rules.
_STATUS_EVENTS = {
    Status.TAKEN: "ticket_taken",
    Status.RESOLVED: "ticket_resolved",
    Status.CANCELLED: "ticket_cancelled",
}


def _on_status_changed(sender, ticket, actor, before, after, **kwargs):
    if after == Status.IN_PROGRESS and before in (Status.NEW, Status.TAKEN):
        _notify("ticket_started", ticket, actor)
    elif after in _STATUS_EVENTS:
        _notify(_STATUS_EVENTS[after], ticket, actor)


def _on_message_added(sender, ticket, actor, message, batched=False, **kwargs):
    if message.kind != Message.Kind.INBOUND or batched:
        # Replies are announced by reply_ready once they may leave, notes never, and a
        # batch's messages by _on_messages_added_in_batch.
        return
    from mailboxes.notifications import rule_for

    if rule_for("customer_message", ticket.pool_id) is None:
        return  # one query, before the one that finds out whether this is the first message
    is_first = not ticket.messages.filter(kind=Message.Kind.INBOUND, pk__lt=message.pk).exists()
    if not is_first:  # the first message is the ticket itself: "ticket opened" tells it
        _notify("customer_message", ticket, actor, message_text=message.body_text)


def _on_messages_added_in_batch(sender, added, actor, **kwargs):
    from mailboxes.notifications import notify_customer_messages

    try:
        notify_customer_messages(added, actor=actor)  # each message's failure is its own
    except Exception:
        logger.exception("notification customer_message for %d messages failed", len(added))


def _on_reply_ready(sender, ticket, actor, message, **kwargs):
    _notify("agent_message", ticket, actor, message_text=message.body_text)


def _on_resolution_approved(sender, ticket, actor, **kwargs):
    _notify("resolution_approved", ticket, actor)


def _on_resolution_rejected(sender, ticket, actor, reason, **kwargs):
    _notify("resolution_rejected", ticket, actor, reason=reason)


def _on_ticket_panels(sender, ticket, user, audience, **kwargs):
    from mailboxes.quarantine import held_panels
    from mailboxes.suppression import suppression_panels

    # Only on the agent's page, which is only rendered for those who see the ticket.
    if audience != AGENT:
        return []
    return [*held_panels(ticket), *suppression_panels(ticket, user=user)]


def _on_reply_requested(sender, ticket, actor, confirmed, **kwargs):
    from mailboxes.suppression import check_reply_recipient

    if ticket.requester is not None:
        check_reply_recipient(ticket.requester.primary_email, confirmed=confirmed)


def _on_contact_warnings(sender, contact, **kwargs):
    from mailboxes.suppression import contact_warnings

    return contact_warnings(contact)


def connect() -> None:
    people_signals.contact_warnings.connect(
        _on_contact_warnings, dispatch_uid="mailboxes-contact-suppressed"
    )
    signals.ticket_panels.connect(_on_ticket_panels, dispatch_uid="mailboxes-panels")
    signals.reply_requested.connect(_on_reply_requested, dispatch_uid="mailboxes-suppressed-reply")
    signals.reply_ready.connect(_queue_reply, dispatch_uid="mailboxes-queue-reply")
    signals.ticket_created.connect(_on_ticket_created, dispatch_uid="mailboxes-notify-created")
    signals.status_changed.connect(_on_status_changed, dispatch_uid="mailboxes-notify-status")
    signals.message_added.connect(_on_message_added, dispatch_uid="mailboxes-notify-message")
    signals.tickets_created_in_batch.connect(
        _on_tickets_created_in_batch, dispatch_uid="mailboxes-notify-created-in-batch"
    )
    signals.messages_added_in_batch.connect(
        _on_messages_added_in_batch, dispatch_uid="mailboxes-notify-messages-in-batch"
    )
    signals.reply_ready.connect(_on_reply_ready, dispatch_uid="mailboxes-notify-reply")
    signals.resolution_approved.connect(
        _on_resolution_approved, dispatch_uid="mailboxes-notify-approved"
    )
    signals.resolution_rejected.connect(
        _on_resolution_rejected, dispatch_uid="mailboxes-notify-rejected"
    )
