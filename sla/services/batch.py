"""The clocks of many tickets at once: what ``apply_policy`` and ``follow_customer_message``
do one by one, for a batch of mail, in a fixed number of queries.

Mail ingestion opens fifty tickets per transaction; per ticket, the one-by-one services
cost about ten statements (lock, policy, calendar, deadlines, activity, due time). Here
the batch's tickets are locked in one query (in id order, as the tickets services lock
them), the active policies and their calendars are read once per call, new deadlines go
in with one INSERT and the due times with one UPDATE. The results are the same rows
(``tests/sla/test_batch_clocks.py`` compares both ways).
"""

from collections.abc import Iterable
from datetime import datetime

from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from sla.models import Deadline, SlaPolicy, Target
from sla.services.clocks import (
    POLICY_TARGETS,
    _close,
    _new_deadline,
    _Schedules,
    active_policies,
    first_match,
    past_breach_activity,
    plan,
    record_past_breach,
    sync_due_of,
)
from tickets.models import ActivityLog, Ticket
from tickets.services.audit import activity_row, log_activities
from tickets.services.transactions import service_atomic
from tickets.states import OPEN_STATUSES

State = Deadline.State


def _lock(ticket_ids: Iterable[int], **conditions) -> list[Ticket]:
    """Lock the tickets in id order, each with its requester's organization; one query."""
    return list(
        Ticket.objects.select_for_update(of=("self",))
        .filter(pk__in=sorted(set(ticket_ids)), **conditions)
        .annotate(requester_organization_id=F("requester__organization_id"))
        .order_by("pk")
    )


def _organization_of(ticket: Ticket) -> int | None:
    # Annotated by _lock, so unknown to the model's type.
    return ticket.requester_organization_id  # type: ignore[attr-defined]


def _live_by_ticket(ticket_ids: list[int]) -> dict[int, dict[str, Deadline]]:
    live: dict[int, dict[str, Deadline]] = {}
    rows = (
        Deadline.objects.filter(ticket_id__in=ticket_ids, target__in=POLICY_TARGETS)
        .live()
        .select_related("policy__calendar")
    )
    for deadline in rows:
        live.setdefault(deadline.ticket_id, {})[deadline.target] = deadline
    return live


@service_atomic
def apply_policies(
    ticket_ids: Iterable[int], *, now: datetime | None = None
) -> dict[int, SlaPolicy | None]:
    """``apply_policy`` for many tickets: the same deadlines, activity rows and due times.

    About nine queries whatever the number of tickets (two more per calendar used).
    Returns each ticket's policy. Safe to re-run: a second call changes nothing.
    """
    now = now or timezone.now()
    tickets = _lock(ticket_ids)
    if not tickets:
        return {}
    pks = [ticket.pk for ticket in tickets]
    policies = active_policies()
    live = _live_by_ticket(pks)
    chosen = {
        ticket.pk: first_match(policies, ticket, organization_id=_organization_of(ticket))
        if ticket.status in OPEN_STATUSES
        else None
        for ticket in tickets
    }
    # A reopened ticket gets a fresh resolution clock: which of them had one before.
    wants_resolution = [
        ticket.pk
        for ticket in tickets
        if chosen[ticket.pk] is not None and Target.RESOLUTION not in live.get(ticket.pk, {})
    ]
    had_resolution = set(
        Deadline.objects.filter(ticket_id__in=wants_resolution, target=Target.RESOLUTION)
        .values_list("ticket_id", flat=True)
        .order_by()
        .distinct()
        if wants_resolution
        else ()
    )
    schedules = _Schedules()
    new: list[Deadline] = []
    activity = []
    for ticket in tickets:
        policy, deadlines = chosen[ticket.pk], live.get(ticket.pk, {})
        previous = next((d.policy for d in deadlines.values() if d.policy is not None), None)
        for target in POLICY_TARGETS:
            budget = policy.budget(target) if policy else None
            deadline = deadlines.get(target)
            if policy is None or budget is None:
                if deadline is not None:
                    _close(deadline, State.CANCELLED, now)
                continue
            if deadline is None:
                start = _start_of(target, ticket, now, had_resolution)
                if start is None:
                    continue
                deadline = _new_deadline(
                    ticket, target, policy, budget, start, schedules.of(policy), now
                )
                new.append(deadline)
            due_before = deadline.due_at
            deadline.policy, deadline.budget_seconds = policy, budget
            if deadline.state == State.RUNNING:
                plan(deadline, schedules.of(policy), policy)
            if record_past_breach(deadline, now, due_before=due_before):
                activity.append(activity_row(ticket, **past_breach_activity(deadline)))
            if deadline.pk is not None:
                deadline.save()
        if policy != previous and (policy is not None or previous is not None):
            activity.append(
                activity_row(
                    ticket,
                    actor=None,
                    action=ActivityLog.Action.SLA_POLICY,
                    before=previous.name if previous else "",
                    after=policy.name if policy else "",
                )
            )
    Deadline.objects.bulk_create(new)
    _move_to_ticket_pools(pks)
    log_activities(activity)
    sync_due_of(pks)
    return chosen


def _start_of(target: str, ticket: Ticket, now: datetime, had_resolution: set[int]):
    """``clocks._start_of`` with the earlier resolution deadlines looked up for the batch."""
    if target == Target.FIRST_RESPONSE:
        return ticket.created_at if ticket.first_response_at is None else None
    if target == Target.RESOLUTION:
        return now if ticket.pk in had_resolution else ticket.created_at
    return None


def _move_to_ticket_pools(ticket_ids: list[int]) -> None:
    """A ticket moved to another pool moves its deadlines too; one UPDATE for the batch."""
    pool = Ticket.objects.filter(pk=OuterRef("ticket_id")).values("pool_id")[:1]
    Deadline.objects.filter(ticket_id__in=ticket_ids).exclude(pool_id=Subquery(pool)).update(
        pool_id=Subquery(pool)
    )


@service_atomic
def follow_customer_messages(ticket_ids: Iterable[int], *, now: datetime | None = None) -> None:
    """``follow_customer_message`` for many tickets: each next response clock starts (once).

    One query when none of the tickets has had an answer yet (new tickets); about seven
    otherwise. Safe to re-run.
    """
    now = now or timezone.now()
    tickets = _lock(ticket_ids, first_response_at__isnull=False, status__in=OPEN_STATUSES)
    if not tickets:
        return
    running = set(
        Deadline.objects.filter(
            ticket_id__in=[ticket.pk for ticket in tickets], target=Target.NEXT_RESPONSE
        )
        .live()
        .values_list("ticket_id", flat=True)
    )
    tickets = [ticket for ticket in tickets if ticket.pk not in running]
    if not tickets:
        return
    policies = active_policies()
    schedules = _Schedules()
    new = []
    for ticket in tickets:
        policy = first_match(policies, ticket, organization_id=_organization_of(ticket))
        budget = policy.budget(Target.NEXT_RESPONSE) if policy else None
        if policy is None or budget is None:
            continue
        schedule = schedules.of(policy)
        deadline = _new_deadline(ticket, Target.NEXT_RESPONSE, policy, budget, now, schedule, now)
        if deadline.state == State.RUNNING:
            plan(deadline, schedule, policy)
        new.append(deadline)
    if new:
        Deadline.objects.bulk_create(new)
        sync_due_of([deadline.ticket_id for deadline in new])
