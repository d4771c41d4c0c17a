"""All-or-nothing units of work: many service calls, one transaction, no savepoints between.

Every service is atomic on its own (``service_atomic``): called alone it is a transaction;
called inside another atomic block it is a savepoint, so that caller may catch its error
and carry on. Mail processing calls five or six services per message and never carries on
after an error: any error rolls the whole message back. Inside ``all_or_nothing()`` the
services therefore skip their savepoints (two round trips each, about eight per new ticket)
and the activity rows logged there are inserted together, in one query, when the unit ends
without error, just before it commits (or releases its savepoint).
"""

import functools
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import transaction


class _Unit(threading.local):
    # Django connections are per thread, and so is the unit open on one.
    def __init__(self):
        self.active = False
        self.depth = 0  # len(connection.savepoint_ids) just inside the unit's own block
        self.activity: list = []


_unit = _Unit()


@contextmanager
def all_or_nothing() -> Iterator[None]:
    """A transaction (a savepoint when nested) that is only ever rolled back whole.

    Only for callers that let every error out of the block: a service that raises inside
    leaves the block doomed (no savepoint of its own to go back to).
    """
    if _unit.active:
        raise RuntimeError("all_or_nothing() blocks do not nest")
    from tickets.models import ActivityLog

    with transaction.atomic():
        _unit.active, _unit.activity = True, []
        _unit.depth = len(transaction.get_connection().savepoint_ids)
        try:
            yield
            if _unit.activity:
                ActivityLog.objects.bulk_create(_unit.activity)
        finally:
            _unit.active, _unit.activity = False, []


def buffer_activity(row) -> bool:
    """Keep ``row`` for the unit's single INSERT; False when it must be saved now.

    A row is only buffered when nothing between the unit and here could roll back on its
    own: inside a real savepoint (code that catches an error and carries on) it is saved
    at once, so it lives or dies with that savepoint exactly as before.
    """
    if not _unit.active:
        return False
    inner = transaction.get_connection().savepoint_ids[_unit.depth :]
    if any(sid is not None for sid in inner):
        return False
    _unit.activity.append(row)
    return True


def service_atomic(func):
    """``transaction.atomic`` for a service; without its savepoint inside ``all_or_nothing()``."""

    @functools.wraps(func)
    def atomic_service(*args, **kwargs):
        with transaction.atomic(savepoint=not _unit.active):
            return func(*args, **kwargs)

    return atomic_service
