"""The one place history is written and domain events are fired."""

from django.db import transaction

from tickets.models import ActivityLog, Ticket


def log_activity(ticket, *, actor, action, before="", after="", detail="") -> ActivityLog:
    return ActivityLog.objects.create(
        ticket=ticket,
        actor=actor,
        action=action,
        before=str(before or "")[:255],
        after=str(after or "")[:255],
        detail=detail,
    )


def announce(signal, **kwargs) -> None:
    """Send a domain signal once the current transaction has committed (never for a rollback)."""
    transaction.on_commit(lambda: signal.send(sender=Ticket, **kwargs))
