"""Keeping the report facts: each ticket's rows recomputed from the tables that hold the truth."""

from collections import defaultdict
from datetime import datetime

from django.db import transaction

from reports import durations, marks, rollup
from reports.models import ReportEvent, ReportMark, TicketFact
from sla.business_time import Schedule, business_seconds_between
from sla.models import BusinessCalendar, Consultation, Deadline, Target
from sla.services.clocks import ALWAYS
from surveys.models import Answer
from tickets.models import ActivityLog, Message, Ticket
from tickets.states import OPEN_STATUSES, Status

POLICY_TARGETS = (Target.FIRST_RESPONSE, Target.NEXT_RESPONSE, Target.RESOLUTION)
SOLVED = (Status.RESOLVED, Status.CLOSED)


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return max(0, int((end - start).total_seconds()))


def _business(schedule: Schedule, start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return int(business_seconds_between(schedule, start, end))


def _events(ticket, history, inbound) -> list[ReportEvent]:
    """Reopens from the status history; customer messages that came while it was solved.

    A message and the reopen it causes carry the same instant or the message comes first:
    a change at the message's very instant is taken as its consequence.
    """
    ticket_id, where = ticket.pk, {"pool_id": ticket.pool_id, "assignee_id": ticket.assignee_id}
    events = [
        ReportEvent(ticket_id=ticket_id, kind=ReportEvent.Kind.REOPENED, at=at, **where)
        for before, after, at in history
        if before in SOLVED and after in OPEN_STATUSES
    ]
    for received in inbound:
        status = Status.NEW
        for _before, after, at in history:
            if at >= received:
                break
            status = after
        if status in SOLVED:
            events.append(
                ReportEvent(
                    ticket_id=ticket_id,
                    kind=ReportEvent.Kind.REPLY_AFTER_CLOSE,
                    at=received,
                    **where,
                )
            )
    return events


def _facts_of(ticket: Ticket, schedule: Schedule, calendar_id, *, late: bool, consulted: bool):
    solved = ticket.status in SOLVED and not ticket.merged_into_id
    finished_at = (ticket.resolved_at or ticket.closed_at) if solved else None
    return TicketFact(
        ticket_id=ticket.pk,
        calendar_id=calendar_id,
        created_at=ticket.created_at,
        channel=ticket.channel,
        first_response_at=ticket.first_response_at,
        first_response_seconds=_seconds(ticket.created_at, ticket.first_response_at),
        first_response_business_seconds=_business(
            schedule, ticket.created_at, ticket.first_response_at
        ),
        finished_at=finished_at,
        handling_seconds=_seconds(ticket.created_at, finished_at),
        handling_business_seconds=_business(schedule, ticket.created_at, finished_at),
        late=finished_at is not None and late,
        consulted=consulted,
        open=ticket.status in OPEN_STATUSES,
        pool_key=ticket.pool_id or 0,
        assignee_key=ticket.assignee_id or 0,
    )


def _deadlines(ids) -> tuple[dict[int, int], set[int], list]:
    """(ticket id -> calendar of its latest deadline with a policy, tickets with a missed
    policy deadline, the deadlines' marks), from one query."""
    calendar_of, late, found = {}, set(), []
    tz = marks.zone()
    for ticket_id, calendar_id, target, state, met_at, breached_at in (
        Deadline.objects.filter(ticket_id__in=ids)
        .order_by("started_at", "pk")
        .values_list("ticket_id", "policy__calendar_id", *marks.DEADLINE_FIELDS[1:])
    ):
        if calendar_id is not None:
            calendar_of[ticket_id] = calendar_id
        if target in POLICY_TARGETS and breached_at is not None:
            late.add(ticket_id)
        found.append(marks.of_deadline((ticket_id, target, state, met_at, breached_at), tz))
    return calendar_of, late, found


@transaction.atomic
def refresh_facts(ticket_ids) -> None:
    """Recompute the report rows (TicketFact, ReportEvent) of ``ticket_ids`` from the tickets,
    their history and their SLA deadlines, in a fixed number of queries per call, and move
    their figures in the daily roll-up (ReportDay) from what they were to what they are.

    The tickets are locked first (in id order), so two events about one ticket refresh one
    after the other. Safe to re-run: the rows are replaced by what the tables say now.
    """
    ids = sorted(set(ticket_ids))
    tickets = list(Ticket.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
    if not tickets:
        return
    ids = [ticket.pk for ticket in tickets]
    history = defaultdict(list)
    for ticket_id, before, after, at in (
        ActivityLog.objects.filter(ticket_id__in=ids, action=ActivityLog.Action.STATUS)
        .order_by("created_at", "pk")
        .values_list("ticket_id", "before", "after", "created_at")
    ):
        history[ticket_id].append((before, after, at))
    inbound = defaultdict(list)
    for ticket_id, at in Message.objects.filter(
        ticket_id__in=ids, kind=Message.Kind.INBOUND
    ).values_list("ticket_id", "created_at"):
        inbound[ticket_id].append(at)
    calendar_of, late, found = _deadlines(ids)
    schedules = {
        calendar.pk: calendar.schedule()
        for calendar in BusinessCalendar.objects.filter(
            pk__in=set(calendar_of.values())
        ).prefetch_related("intervals")
    }
    consulted = set()
    tz = marks.zone()
    for row in Consultation.objects.filter(ticket_id__in=ids).values_list(
        *marks.CONSULTATION_FIELDS
    ):
        consulted.add(row[0])
        found.append(marks.of_consultation(row, tz))
    facts, events = [], []
    for ticket in tickets:
        calendar_id = calendar_of.get(ticket.pk)
        schedule = schedules.get(calendar_id, ALWAYS) if calendar_id else ALWAYS
        facts.append(
            _facts_of(
                ticket,
                schedule,
                calendar_id,
                late=ticket.pk in late,
                consulted=ticket.pk in consulted,
            )
        )
        events += _events(ticket, history[ticket.pk], sorted(inbound[ticket.pk]))
    found += [marks.of_event((event.ticket_id, event.kind, event.at), tz) for event in events]
    for row in Answer.objects.filter(marks.ANSWERS, response__ticket_id__in=ids).values_list(
        *marks.ANSWER_FIELDS
    ):
        found += marks.of_answer(row, tz)
    keys = {fact.ticket_id: (fact.pool_key, fact.assignee_key) for fact in facts}
    new_marks = marks.rows((mark for mark in found if mark), keys)
    old = list(TicketFact.objects.filter(ticket_id__in=ids))
    old_marks = list(
        ReportMark.objects.filter(ticket_id__in=ids)
        .order_by("ticket_id", "measure", "day")
        .values_list("ticket_id", "measure", "day", "previous", "pool_key", "assignee_key", "value")
    )
    TicketFact.objects.bulk_create(
        facts,
        update_conflicts=True,
        unique_fields=["ticket"],
        update_fields=[f.name for f in TicketFact._meta.concrete_fields if not f.primary_key],
    )
    rollup.apply(*rollup.changes(old, facts, old_marks, new_marks))
    durations.apply(durations.changes(old, facts))
    if set(old_marks) != set(new_marks):
        ReportMark.objects.filter(ticket_id__in=ids).delete()
        ReportMark.objects.bulk_create(
            ReportMark(ticket_id=ticket, measure=measure, day=day, previous=previous,
                       pool_key=pool, assignee_key=agent, value=value)
            for ticket, measure, day, previous, pool, agent, value in new_marks
        )  # fmt: skip
    ReportEvent.objects.filter(ticket_id__in=ids).delete()
    ReportEvent.objects.bulk_create(events)
