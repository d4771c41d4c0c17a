"""Resolved tickets close by themselves when the customer stays silent.

A resolved ticket waits for its pool's working days (``PoolClosing``; the default is
``settings.AUTO_CLOSE_BUSINESS_DAYS`` days, Monday to Friday in the site's time zone). A
customer reply in the meantime reopens it (the intake path does that) and clears its
``resolved_at``, so the wait starts again at the next resolve. The close is an ordinary
status change without an actor: logged, announced, and the survey goes out if the pool
sends it on close.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from sla.business_time import Schedule, add_business_days, weekdays
from sla.models import PoolClosing
from tickets.models import Pool, Ticket
from tickets.services import change_status
from tickets.states import Status

logger = logging.getLogger(__name__)

# Stored untranslated, shown in the reader's language by the activity log.
AUTO_CLOSE_REASON = gettext_noop("Closed automatically: no reply from the customer in time.")


def closing_rules() -> dict[int, tuple[int, Schedule]]:
    """Per active pool: (working days to wait, calendar). Two queries, whatever the pools."""
    default = (settings.AUTO_CLOSE_BUSINESS_DAYS, weekdays(settings.TIME_ZONE))
    rules = dict.fromkeys(Pool.objects.filter(active=True).values_list("pk", flat=True), default)
    schedules: dict[int, Schedule] = {}
    for rule in PoolClosing.objects.select_related("calendar").filter(pool_id__in=rules):
        schedule = default[1]
        if rule.calendar is not None:
            key = rule.calendar.pk
            if key not in schedules:
                schedules[key] = rule.calendar.schedule()
            schedule = schedules[key]
        rules[rule.pool_id] = (rule.close_resolved_after_days, schedule)
    return rules


def closes_at(resolved_at: datetime, days: int, schedule: Schedule) -> datetime | None:
    """When a ticket resolved at ``resolved_at`` closes; None when the pool never closes."""
    if days <= 0:
        return None
    return add_business_days(schedule, resolved_at, days)


def close_resolved_tickets(now: datetime | None = None) -> list[Ticket]:
    """Close every resolved ticket whose wait is over; returns the tickets closed.

    Candidates come from one indexed query per pool (resolved at least ``days`` calendar
    days ago: a working day is never shorter than a calendar day); the exact instant is
    worked out per candidate in Python, no query. Safe to run twice or concurrently: the
    status change locks the row and a ticket no longer resolved is skipped.
    """
    now = now or timezone.now()
    closed: list[Ticket] = []
    for pool_id, (days, schedule) in closing_rules().items():
        if days <= 0:
            continue
        candidates = Ticket.objects.filter(
            pool_id=pool_id,
            status=Status.RESOLVED,
            resolved_at__lte=now - timedelta(days=days),
        ).order_by("resolved_at", "pk")
        for ticket in candidates:
            assert ticket.resolved_at is not None  # noqa: S101 (filtered on it)
            due = closes_at(ticket.resolved_at, days, schedule)
            if due is None or due > now:
                continue
            closed_ticket = _close(ticket)
            if closed_ticket is not None:
                closed.append(closed_ticket)
    return closed


def _close(ticket: Ticket) -> Ticket | None:
    with transaction.atomic():
        current = Ticket.objects.select_for_update().get(pk=ticket.pk)
        # Reopened (or resolved again later) between the query and the lock: not due.
        if current.status != Status.RESOLVED or current.resolved_at != ticket.resolved_at:
            return None
        try:
            return change_status(current, to=Status.CLOSED, actor=None, reason=AUTO_CLOSE_REASON)
        except ValidationError:
            logger.exception("ticket %s could not be closed automatically", ticket.number)
            return None
