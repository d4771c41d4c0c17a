"""The one place history is written and domain events are fired."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction

from tickets.models import ActivityLog, Ticket
from tickets.services.transactions import buffer_activity


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
    """Write one history row; inside ``all_or_nothing()`` it is inserted when the unit ends."""
    row = activity_row(
        ticket, actor=actor, action=action, before=before, after=after, detail=detail
    )
    if not buffer_activity(row):
        row.save(force_insert=True)
    return row


def log_activities(rows: list[ActivityLog]) -> None:
    """Write many rows from ``activity_row``: in the unit's INSERT, or one INSERT of their own."""
    unsaved = [row for row in rows if not buffer_activity(row)]
    if unsaved:
        ActivityLog.objects.bulk_create(unsaved)


class _Batched(threading.local):
    active = False


_batched = _Batched()


@contextmanager
def announcing_batched() -> Iterator[None]:
    """Events announced inside are sent with ``batched=True``: their tickets are in a batch
    event of the same commit (``tickets_created_in_batch``), whatever service announces them."""
    _batched.active = True
    try:
        yield
    finally:
        _batched.active = False


def announce(signal, **kwargs) -> None:
    """Send a domain signal once the current transaction has committed (never for a rollback)."""
    if _batched.active:
        kwargs["batched"] = True
    transaction.on_commit(lambda: signal.send(sender=Ticket, **kwargs))
