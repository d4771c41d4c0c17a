"""The ticket events, pushed to the browsers: each change goes to its ticket's topic (the
ticket page) and its pool's (the queue). Data carries only numbers, ids and states, which
every agent of the pool may see; the page fetches the rest through its own access checks.

A receiver never raises (``publish`` logs a backend failure), so no other receiver misses
the event; publishing is cheap (one INSERT or one Redis call per event).
"""

from collections.abc import Callable

from django.dispatch import Signal

from live.access import pool_topic, ticket_topic, user_topic
from live.publish import publish, publish_many
from tickets import signals


def _both(ticket, event: str, **data) -> list[tuple[str, str, dict]]:
    data = {"number": ticket.number, "pool": ticket.pool_id, **data}
    return [(ticket_topic(ticket.number), event, data), (pool_topic(ticket.pool_id), event, data)]


def _created(sender, tickets, **kwargs):
    publish_many(e for t in tickets for e in _both(t, "ticket.created", status=t.status))


def _messages(sender, messages, **kwargs):
    publish_many(
        event
        for message in messages
        for event in _both(message.ticket, "ticket.message", message=message.pk, kind=message.kind)
    )


def _statuses(sender, changes, **kwargs):
    publish_many(e for c in changes for e in _both(c.ticket, "ticket.status", status=c.after))


def _assigned(sender, changes, **kwargs):
    events = []
    for change in changes:
        events += _both(change.ticket, "ticket.assigned", assignee=change.after)
        # "My tickets" of the agent who got it, and of the one who lost it.
        events += [
            (user_topic(user_id), "ticket.assigned", {"number": change.ticket.number})
            for user_id in {change.before, change.after} - {None}
        ]
    publish_many(events)


def _updated(sender, changes, **kwargs):
    publish_many(e for c in changes for e in _both(c.ticket, "ticket.updated", field=c.field))


def _merged(sender, merges, **kwargs):
    events = []
    for merge in merges:
        events += _both(merge.ticket, "ticket.merged", into=merge.target.number)
        events += _both(merge.target, "ticket.message", merged=merge.ticket.number)
    publish_many(events)


def _replies_ready(sender, messages, **kwargs):
    # An approved reply leaves: its page drops the "waiting for approval" badge.
    _messages(sender, messages)


def _resolutions(sender, tickets, **kwargs):
    publish_many(e for t in tickets for e in _both(t, "ticket.status", status=t.status))


def _presence(sender, ticket, user, is_replying, **kwargs):
    publish(
        ticket_topic(ticket.number),
        "ticket.presence",
        {"number": ticket.number, "user": user.pk, "replying": is_replying},
    )


RECEIVERS: list[tuple[Signal, Callable[..., None]]] = [
    (signals.tickets_created, _created),
    (signals.messages_added, _messages),
    (signals.statuses_changed, _statuses),
    (signals.tickets_assigned, _assigned),
    (signals.tickets_updated, _updated),
    (signals.tickets_merged, _merged),
    (signals.replies_ready, _replies_ready),
    (signals.resolutions_approved, _resolutions),
    (signals.resolutions_rejected, _resolutions),
    (signals.presence_changed, _presence),
]


def connect() -> None:
    for signal, receiver in RECEIVERS:
        signal.connect(receiver, dispatch_uid=f"live.{receiver.__name__}")
