"""Tickets' deadlines: started by their policy, paused, resumed, recomputed, met or cancelled.

One path for one ticket or a batch of mail: every service takes a list. It locks the
tickets first, in id order (as the tickets services lock them), so events about one
ticket (a reply and a status change arriving together) apply one after another; reads
the active policies and their calendars once per call; and ends by writing the tickets'
denormalised ``due_at`` (the earliest running deadline) in one UPDATE.
"""

from collections.abc import Iterable
from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext_noop

from people.models import Contact
from sla.business_time import (
    Schedule,
    add_business_time,
    business_seconds_between,
    is_working_time,
)
from sla.models import Consultation, Deadline, SlaPolicy, Target
from tickets.models import ActivityLog, Ticket
from tickets.services.audit import activity_row, log_activities
from tickets.states import OPEN_STATUSES, Status

State = Deadline.State
POLICY_TARGETS = (Target.FIRST_RESPONSE, Target.NEXT_RESPONSE, Target.RESOLUTION)
BREACHED_BEFORE_POLICY = gettext_noop(
    "Already past due when the policy was applied: not escalated."
)
# Deadlines without a calendar (a consultation on a ticket without a policy) run on the clock.
ALWAYS = Schedule(zone=ZoneInfo("UTC"), intervals={day: ((time(0), None),) for day in range(7)})


def policy_for(ticket: Ticket) -> SlaPolicy | None:
    """The first active policy, by order, that matches the ticket's pool, topic, priority and
    the requester's organization (one query: the organization is a subquery)."""
    contacts = Contact.objects.filter(pk=ticket.requester_id) if ticket.requester_id else None
    organization = contacts.values("organization_id")[:1] if contacts is not None else None
    return (
        SlaPolicy.objects.matching(
            pool_id=ticket.pool_id,
            topic_id=ticket.topic_id,
            priority=ticket.priority,
            organization_id=Subquery(organization) if organization is not None else None,
        )
        .select_related("calendar")
        .first()
    )


def active_policies() -> list[SlaPolicy]:
    """Every active policy with its calendar, first match first: for ``first_match``."""
    policies = SlaPolicy.objects.filter(active=True).select_related("calendar")
    return list(policies.order_by("order", "pk"))


def first_match(policies: list[SlaPolicy], ticket: Ticket, *, organization_id) -> SlaPolicy | None:
    """``policy_for`` without a query, over ``active_policies()`` read once for many tickets."""
    return next(
        (
            policy
            for policy in policies
            if policy.applies_to(
                pool_id=ticket.pool_id,
                topic_id=ticket.topic_id,
                priority=ticket.priority,
                organization_id=organization_id,
            )
        ),
        None,
    )


class _Schedules(dict):
    """Calendars read once per service call (two queries each)."""

    def of(self, policy: SlaPolicy | None) -> Schedule:
        if policy is None:
            return ALWAYS
        if policy.calendar_id not in self:
            self[policy.calendar_id] = policy.calendar.schedule()
        return self[policy.calendar_id]


def plan(deadline: Deadline, schedule: Schedule, policy: SlaPolicy | None) -> None:
    """Set ``due_at`` and ``remind_at`` of a running deadline from what is left of its budget."""
    since = deadline.running_since or timezone.now()
    remaining = deadline.budget_seconds - deadline.consumed_seconds
    deadline.due_at = add_business_time(schedule, since, max(remaining, 0))
    lead = policy.reminder_lead(deadline.budget_seconds) if policy else None
    done = deadline.reminded_at is not None or deadline.breached_at is not None
    if done or lead is None or lead >= deadline.budget_seconds:
        deadline.remind_at = None
    else:
        deadline.remind_at = add_business_time(schedule, since, max(remaining - lead, 0))


def record_past_breach(deadline: Deadline, now: datetime, *, due_before) -> bool:
    """A running deadline that a policy's application puts in the past: recorded as missed.

    Nobody is mailed and nothing is escalated: without this, the first policies applied to
    an old backlog (a new installation, the demo) mailed supervisors about every ticket at
    once. A deadline whose due time this application did not move (``due_before``) is
    left to the sweep, which escalates it as usual. True when it was recorded.
    """
    if deadline.state != State.RUNNING or deadline.breached_at is not None:
        return False
    if deadline.due_at is None or deadline.due_at > now or deadline.due_at == due_before:
        return False
    deadline.breached_at = deadline.due_at
    deadline.remind_at = None
    return True


def past_breach_activity(deadline: Deadline) -> dict:
    """The activity row's fields for ``record_past_breach``."""
    return {
        "actor": None,
        "action": ActivityLog.Action.SLA_BREACHED,
        "after": deadline.get_target_display(),
        "detail": BREACHED_BEFORE_POLICY,
    }


def sync_due_of(ticket_ids) -> None:
    """Write each ticket's earliest running deadline onto it (one UPDATE with a subquery)."""
    earliest = (
        Deadline.objects.filter(ticket_id=OuterRef("pk"), state=State.RUNNING)
        .exclude(due_at__isnull=True)
        .order_by("due_at")
        .values("due_at")[:1]
    )
    Ticket.objects.filter(pk__in=ticket_ids).update(due_at=Subquery(earliest))


def lock_ticket_of(**lookup) -> Ticket | None:
    """Lock the ticket a deadline or consultation belongs to (``deadlines__pk=...``).

    Taken first, before any deadline or consultation row: every SLA write locks the ticket
    and then its rows, as the tickets services do. The other order deadlocks against them
    on PostgreSQL (an activity row's foreign key needs a share lock on the ticket).
    """
    return Ticket.objects.select_for_update(of=("self",)).filter(**lookup).first()


def _new_deadline(ticket, target, policy, budget, start, schedule, now) -> Deadline:
    deadline = Deadline(
        ticket=ticket,
        pool_id=ticket.pool_id,
        target=target,
        policy=policy,
        budget_seconds=budget,
        started_at=start,
    )
    if ticket.status == Status.WAITING_CUSTOMER:
        deadline.state = State.PAUSED
        deadline.consumed_seconds = int(business_seconds_between(schedule, start, now))
    else:
        deadline.running_since = start
    return deadline


def _close(deadline: Deadline, state: str, now: datetime) -> None:
    deadline.state = state
    if state == State.MET:
        deadline.met_at = now
    if deadline.breached_at is None and deadline.due_at is not None and deadline.due_at < now:
        # Missed, even if the sweep had not got to it yet: reports must say so.
        deadline.breached_at = deadline.due_at
    deadline.remind_at = None
    deadline.save()


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


@transaction.atomic
def apply_policies(
    ticket_ids: Iterable[int], *, now: datetime | None = None
) -> dict[int, SlaPolicy | None]:
    """Match each ticket's policy and start, recompute or cancel its deadlines to fit it.

    For tickets created, reopened, or changed in pool, topic or priority (and the admin's
    recomputation). A deadline keeps the business time already used; only its budget and
    calendar change. Logs a change of policy. About nine queries whatever the number of
    tickets (two more per calendar used). Returns each ticket's policy. Safe to re-run.
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
    """When a missing deadline of ``target`` starts counting, or None: it does not start.

    A reopened ticket (one that had a resolution deadline) gets a fresh resolution clock
    from now; the next response clock is started by each customer message."""
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


@transaction.atomic
def follow_customer_messages(ticket_ids: Iterable[int], *, now: datetime | None = None) -> None:
    """The customers wrote after our first answer: each next response clock starts (once).

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


def _moves_clocks(before: str, after: str) -> bool:
    # Taking, starting or handing back a ticket (every routed mail) changes no deadline.
    return before in (Status.WAITING_CUSTOMER, Status.RESOLVED, Status.CLOSED) or after in (
        Status.WAITING_CUSTOMER,
        Status.RESOLVED,
        Status.CLOSED,
        Status.CANCELLED,
    )


@transaction.atomic
def follow_statuses(changes, *, now: datetime | None = None) -> None:
    """Pause while waiting for the customer, resume after, stop on resolve/close/cancel.

    ``changes``: (ticket id, before, after) triples. Resolving or closing meets the
    resolution target; response targets still open then are cancelled (the ticket was
    solved without one). Reopening starts a fresh resolution clock. Safe to re-run.
    """
    now = now or timezone.now()
    changes = [change for change in changes if _moves_clocks(change[1], change[2])]
    if not changes:
        return
    tickets = {ticket.pk: ticket for ticket in _lock(pk for pk, _b, _a in changes)}
    reopened = [
        pk for pk, before, after in changes
        if before in (Status.RESOLVED, Status.CLOSED) and after in OPEN_STATUSES
    ]  # fmt: skip
    if reopened:
        apply_policies(reopened, now=now)
    live = _live_by_ticket(list(tickets))
    schedules = _Schedules()
    ended = []
    for pk, _before, after in changes:
        ticket = tickets.get(pk)
        if ticket is None:
            continue
        for deadline in live.get(pk, {}).values():
            if deadline.state not in (State.RUNNING, State.PAUSED):
                continue  # closed by an earlier change of this list
            if after in (Status.RESOLVED, Status.CLOSED, Status.CANCELLED):
                # A ticket merged into another was not resolved: its clocks just stop.
                met = (
                    deadline.target == Target.RESOLUTION
                    and after != Status.CANCELLED
                    and not ticket.merged_into_id
                )
                _close(deadline, State.MET if met else State.CANCELLED, now)
            elif after == Status.WAITING_CUSTOMER and deadline.state == State.RUNNING:
                since = deadline.running_since or now
                # The calendar is read only when a clock pauses or resumes.
                used = business_seconds_between(schedules.of(deadline.policy), since, now)
                deadline.consumed_seconds += int(used)
                deadline.state, deadline.running_since = State.PAUSED, None
                deadline.due_at = deadline.remind_at = None
                deadline.save()
            elif after != Status.WAITING_CUSTOMER and deadline.state == State.PAUSED:
                deadline.state, deadline.running_since = State.RUNNING, now
                plan(deadline, schedules.of(deadline.policy), deadline.policy)
                deadline.save()
        if after in (Status.CLOSED, Status.CANCELLED):
            ended.append(pk)
    _cancel_consultations(ended, now)
    sync_due_of(list(tickets))


def _cancel_consultations(ticket_ids: list[int], now: datetime) -> None:
    if not ticket_ids:
        return
    open_ids = list(
        Consultation.objects.filter(ticket_id__in=ticket_ids).open().values_list("pk", flat=True)
    )
    if not open_ids:
        return
    Consultation.objects.filter(pk__in=open_ids).update(
        state=Consultation.State.CANCELLED, next_reminder_at=None
    )
    for deadline in Deadline.objects.filter(consultation_id__in=open_ids).live():
        _close(deadline, State.CANCELLED, now)


@transaction.atomic
def follow_replies(ticket_ids: Iterable[int], *, now: datetime | None = None) -> None:
    """Replies left for the customers: the first and next response targets are met."""
    now = now or timezone.now()
    pks = [ticket.pk for ticket in _lock(ticket_ids)]
    if not pks:
        return
    responses = Deadline.objects.filter(
        ticket_id__in=pks, target__in=(Target.FIRST_RESPONSE, Target.NEXT_RESPONSE)
    ).live()
    for deadline in responses:
        _close(deadline, State.MET, now)
    sync_due_of(pks)


def schedule_for_ticket(ticket: Ticket) -> Schedule:
    """The calendar of the ticket's live policy deadlines (wall clock when there is none)."""
    deadline = (
        Deadline.objects.filter(ticket=ticket, policy__isnull=False)
        .live()
        .select_related("policy__calendar")
        .first()
    )
    return deadline.policy.calendar.schedule() if deadline and deadline.policy else ALWAYS


def out_of_hours_text(
    ticket: Ticket, *, now: datetime | None = None, shared: dict | None = None
) -> str:
    """The calendar's out-of-hours text when ``ticket``'s policy calendar is closed now.

    ``shared``: a dict kept across a batch of tickets; the active policies and calendars
    are read into it once (no query per ticket but the requester, usually loaded already).
    """
    if shared is None:
        policy = policy_for(ticket)
        schedules = _Schedules()
    else:
        policies = shared.setdefault("sla.policies", None)
        if policies is None:
            policies = shared["sla.policies"] = active_policies()
        requester = ticket.requester if ticket.requester_id else None
        organization_id = requester.organization_id if requester else None
        policy = first_match(policies, ticket, organization_id=organization_id)
        schedules = shared.setdefault("sla.schedules", _Schedules())
    if policy is None or not policy.calendar.out_of_hours_reply.strip():
        return ""
    if is_working_time(schedules.of(policy), now or timezone.now()):
        return ""
    return policy.calendar.out_of_hours_reply.strip()
