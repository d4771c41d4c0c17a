"""Next ticket: hand an agent the oldest waiting ticket from their pools, never twice."""

from itertools import groupby

from django.db import connection, transaction
from django.utils import timezone

from people.models import Absence
from tickets.models import ActivityLog, PoolMembership, Ticket
from tickets.services.audit import announce, log_activity
from tickets.signals import Assignment, StatusChange, statuses_changed, tickets_assigned
from tickets.states import Status

_MAX_ATTEMPTS = 8


def _pool_tiers(agent) -> list[list[int]]:
    """The agent's active pools grouped by pull priority, most urgent tier first."""
    rows = (
        PoolMembership.objects.filter(user=agent, pool__active=True)
        .order_by("pull_priority")
        .values_list("pull_priority", "pool_id")
    )
    return [[pool_id for _p, pool_id in tier] for _p, tier in groupby(rows, key=lambda r: r[0])]


def _lock_first(queryset):
    queryset = queryset.order_by("-priority", "created_at", "pk")
    if connection.features.has_select_for_update_skip_locked:
        # Rows another agent is claiming right now are skipped, not waited for.
        queryset = queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset.first()


def _claim(ticket: Ticket, *, agent, expected_assignee_id, now) -> bool:
    # The conditional UPDATE is the real guard: it only succeeds while the ticket is still
    # in the state we read, which also makes the SQLite path (no row locks) safe.
    return bool(
        Ticket.objects.filter(
            pk=ticket.pk, status=ticket.status, assignee_id=expected_assignee_id
        ).update(assignee=agent, status=Status.TAKEN, updated_at=now)
    )


def pull_next_ticket(*, agent, now=None) -> Ticket | None:
    """Assign the next waiting ticket to ``agent`` and return it, or None when nothing waits.

    Order: work of absent agents this agent covers, then pools by the agent's pull
    priority, then ticket priority, then age. An absent agent gets nothing. Safe under
    concurrency: every call claims a different ticket.
    """
    now = now or timezone.now()
    if Absence.objects.current(now).filter(agent=agent).exists():
        return None
    covered = list(
        Absence.objects.current(now).filter(substitute=agent).values_list("agent_id", flat=True)
    )
    sources = []
    if covered:
        sources.append(Ticket.objects.filter(assignee_id__in=covered, status=Status.TAKEN))
    sources += [Ticket.objects.waiting().filter(pool_id__in=tier) for tier in _pool_tiers(agent)]
    for source in sources:
        for _attempt in range(_MAX_ATTEMPTS):
            with transaction.atomic():
                candidate = _lock_first(source)
                if candidate is None:
                    break
                if _claim(
                    candidate, agent=agent, expected_assignee_id=candidate.assignee_id, now=now
                ):
                    return _record_pull(candidate, agent=agent, now=now)
    return None


def _record_pull(ticket: Ticket, *, agent, now) -> Ticket:
    before_status, before_assignee = ticket.status, ticket.assignee
    ticket.status, ticket.assignee, ticket.updated_at = Status.TAKEN, agent, now
    name = agent.get_full_name() or agent.get_username()
    log_activity(
        ticket,
        actor=agent,
        action=ActivityLog.Action.PULLED,
        before=(before_assignee.get_full_name() or before_assignee.get_username())
        if before_assignee
        else "",
        after=name,
    )
    if before_status != Status.TAKEN:
        log_activity(
            ticket,
            actor=agent,
            action=ActivityLog.Action.STATUS,
            before=before_status,
            after=Status.TAKEN,
        )
        announce(
            statuses_changed,
            changes=[StatusChange(ticket, before_status, Status.TAKEN)],
            actor=agent,
        )
    before_id = before_assignee.pk if before_assignee else None
    announce(tickets_assigned, changes=[Assignment(ticket, before_id, agent.pk)], actor=agent)
    return ticket
