"""Reactions to ticket events (lists, after commit) and answers to tickets' questions.

Bodies stay thin: they call services. A notification that fails is logged by
``notify`` and costs only its own ticket its mail.
"""

from mailboxes.models import NotificationRule
from people import signals as people_signals
from tickets import signals
from tickets.panels import AGENT
from tickets.states import MESSAGING_CHANNELS, Status

Event = NotificationRule.Event


def _queue_replies(sender, messages, **kwargs):
    # Inside the reply's (or the approval's) transaction: its outbox row commits with it.
    from mailboxes.outbound import queue_reply

    for message in messages:
        # A chat's replies go back through its conversation: the chat app says so.
        if not _sent_elsewhere(message.ticket):
            queue_reply(message)


def _sent_elsewhere(ticket) -> bool:
    if ticket.channel not in MESSAGING_CHANNELS:
        return False  # mail, portal, phone...: no app is asked (no query)
    answers = signals.replies_sent_elsewhere.send(sender=type(ticket), ticket=ticket)
    return any(answer for _receiver, answer in answers)


def _notices(items, **kwargs):
    from mailboxes.notifications import Notice

    return [Notice(ticket=ticket, **kwargs) for ticket in items]


def _on_tickets_created(sender, tickets, actor, **kwargs):
    # In a task: a chat's first line, a portal form, a batch of mail don't wait for it. With
    # the broker down, here as before (no sweep would find the mail that was never queued).
    from helpdesk.celery import enqueue_on_commit
    from mailboxes.notifications import anyone_hears_of_opened, notify
    from mailboxes.tasks import notify_tickets_opened_task

    ids = sorted(ticket.pk for ticket in tickets)
    if ids and anyone_hears_of_opened({ticket.pool_id for ticket in tickets}):
        enqueue_on_commit(
            notify_tickets_opened_task,
            ids,
            actor.pk if actor else None,
            on_failure=lambda: notify(Event.TICKET_OPENED, _notices(tickets), actor=actor),
        )


# Status changes that are events of their own in the notification rules.
_STATUS_EVENTS = {
    Status.TAKEN: Event.TICKET_TAKEN,
    Status.RESOLVED: Event.TICKET_RESOLVED,
    Status.CANCELLED: Event.TICKET_CANCELLED,
}


def _status_event(change) -> str | None:
    if change.after == Status.IN_PROGRESS and change.before in (Status.NEW, Status.TAKEN):
        return Event.TICKET_STARTED
    return _STATUS_EVENTS.get(change.after)


def _on_statuses_changed(sender, changes, actor, **kwargs):
    from mailboxes.notifications import notify

    by_event: dict[str, list] = {}
    for change in changes:
        event = _status_event(change)
        if event is not None:
            by_event.setdefault(event, []).append(change.ticket)
    for event, tickets in by_event.items():
        notify(event, _notices(tickets), actor=actor)


def _on_messages_added(sender, messages, actor, **kwargs):
    # Replies are told by replies_ready once they may leave; notes by their mentions only.
    from mailboxes.agent_notifications import notify_mentions
    from mailboxes.notifications import notify_customer_messages

    notify_customer_messages(messages, actor=actor)
    notify_mentions(messages, actor=actor)


def _on_tickets_assigned(sender, changes, actor, **kwargs):
    from mailboxes.agent_notifications import notify_assigned

    notify_assigned(changes, actor=actor)


def _on_replies_ready(sender, messages, actor, **kwargs):
    from mailboxes.notifications import Notice, notify

    notices = [Notice(m.ticket, message_text=m.body_text) for m in messages]
    notify(Event.AGENT_MESSAGE, notices, actor=actor)


def _on_resolutions_approved(sender, tickets, actor, **kwargs):
    from mailboxes.notifications import notify

    notify(Event.RESOLUTION_APPROVED, _notices(tickets), actor=actor)


def _on_resolutions_rejected(sender, tickets, actor, reason, **kwargs):
    from mailboxes.notifications import notify

    notify(Event.RESOLUTION_REJECTED, _notices(tickets, reason=reason), actor=actor)


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
    signals.replies_leaving.connect(_queue_replies, dispatch_uid="mailboxes-queue-replies")
    signals.tickets_created.connect(_on_tickets_created, dispatch_uid="mailboxes-notify-created")
    signals.statuses_changed.connect(_on_statuses_changed, dispatch_uid="mailboxes-notify-status")
    signals.messages_added.connect(_on_messages_added, dispatch_uid="mailboxes-notify-message")
    signals.tickets_assigned.connect(_on_tickets_assigned, dispatch_uid="mailboxes-notify-assigned")
    signals.replies_ready.connect(_on_replies_ready, dispatch_uid="mailboxes-notify-reply")
    signals.resolutions_approved.connect(
        _on_resolutions_approved, dispatch_uid="mailboxes-notify-approved"
    )
    signals.resolutions_rejected.connect(
        _on_resolutions_rejected, dispatch_uid="mailboxes-notify-rejected"
    )
