"""The one place history is written and domain events are fired."""

from django.db import transaction

from tickets import signals
from tickets.models import ActivityLog, Ticket


def activity_row(ticket, *, actor, action, before="", after="", detail="") -> ActivityLog:
    """One history row, not saved yet (``log_activities`` writes many at once)."""
    return ActivityLog(
        ticket=ticket,
        actor=actor,
        action=action,
        before=str(before or "")[:255],
        after=str(after or "")[:255],
        detail=detail,
    )


def log_activity(ticket, *, actor, action, before="", after="", detail="") -> ActivityLog:
    """Write one history row now."""
    row = activity_row(
        ticket, actor=actor, action=action, before=before, after=after, detail=detail
    )
    row.save(force_insert=True)
    return row


def log_activities(rows: list[ActivityLog]) -> None:
    """Write many rows from ``activity_row`` with one INSERT."""
    if rows:
        ActivityLog.objects.bulk_create(rows)


def announce(signal, **kwargs) -> None:
    """Send a domain event once the current transaction has committed (never for a rollback).

    ``send_robust``: a receiver that raises is logged with its traceback (logger
    ``django.dispatch``) and the others still hear the event; the committed change is never
    turned into an error.
    """
    transaction.on_commit(lambda: signal.send_robust(sender=Ticket, **kwargs))


def let_replies_leave(messages: list, *, actor) -> None:
    """Replies that may leave now (recorded unheld, or approved): asked inside the transaction
    (``replies_leaving``: the mail app writes their outbox rows there, so they commit with
    the reply or not at all), then announced after commit (``replies_ready``)."""
    signals.replies_leaving.send(sender=Ticket, messages=messages, actor=actor)
    announce(signals.replies_ready, messages=messages, actor=actor)
