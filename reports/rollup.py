"""The daily roll-up (ReportDay): each ticket's facts as additive figures per day, pool and
agent, with the tickets' marks (reports.marks: counts of distinct tickets, survey sums),
and the open tickets per pool and agent (ReportOpen); kept by ``refresh_facts`` with atomic
increments, rebuilt from the facts, deadlines, events, consultations and survey answers
(with the histogram of durations, reports.durations)."""

from collections import Counter, defaultdict
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from reports import durations, marks
from reports.models import (
    ReportDay,
    ReportEvent,
    ReportMark,
    ReportOpen,
    TicketFact,
)
from sla.models import Consultation, Deadline
from surveys.models import Answer
from tickets.models import Ticket
from tickets.states import Channel

Key = tuple[date, int, int]  # day, pool key, agent key (0: none)
OpenKey = tuple[int, int]  # pool key, agent key


def _day(moment, zone) -> date:
    return moment.astimezone(zone).date()


def contributions(fact: TicketFact, into: dict[Key, Counter], sign: int = 1) -> None:
    """Add (``sign`` 1) or take out (-1) what ``fact`` counts in the roll-up."""
    zone = ZoneInfo(settings.TIME_ZONE)
    keys = (fact.pool_key, fact.assignee_key)
    counts = into[(_day(fact.created_at, zone), *keys)]
    counts["received"] += sign
    counts["received_by_mail"] += sign * (fact.channel == Channel.EMAIL)
    if fact.first_response_at is not None:
        counts = into[(_day(fact.first_response_at, zone), *keys)]
        counts["responded"] += sign
        counts["first_response_seconds"] += sign * (fact.first_response_seconds or 0)
        counts["first_response_business_seconds"] += sign * (
            fact.first_response_business_seconds or 0
        )
    if fact.finished_at is not None:
        counts = into[(_day(fact.finished_at, zone), *keys)]
        counts["solved"] += sign
        counts["handling_seconds"] += sign * (fact.handling_seconds or 0)
        counts["handling_business_seconds"] += sign * (fact.handling_business_seconds or 0)
        kind = {
            (False, False): "solved_on_time",
            (False, True): "solved_on_time_consulted",
            (True, True): "solved_late_consulted",
            (True, False): "solved_late",
        }[(fact.late, fact.consulted)]
        counts[kind] += sign


def changes(old, new, old_marks=(), new_marks=()) -> tuple[dict[Key, Counter], dict[OpenKey, int]]:
    """What replacing the facts ``old`` by ``new`` (and the marks ``old_marks`` by
    ``new_marks``, rows of ``reports.marks``) changes in the roll-up: (day rows, open
    counts)."""
    deltas: dict[Key, Counter] = defaultdict(Counter)
    opened: Counter = Counter()
    for sign, facts in ((-1, old), (1, new)):
        for fact in facts:
            contributions(fact, deltas, sign)
            opened[(fact.pool_key, fact.assignee_key)] += sign * fact.open
    marks.count(old_marks, deltas, -1)
    marks.count(new_marks, deltas, 1)
    days = {key: counts for key, counts in deltas.items() if any(counts.values())}
    return days, {key: value for key, value in opened.items() if value}


def apply(deltas: dict[Key, Counter], opened: dict[OpenKey, int] | None = None) -> None:
    """Add ``deltas`` to the roll-up and ``opened`` to the open counts: one upsert per row,
    incrementing what is there (so two refreshes of different tickets on one day never lose
    each other's figures)."""
    if opened:
        open_table = ReportOpen._meta.db_table
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {open_table} (pool_id, assignee_id, pool_key, assignee_key, open) "  # noqa: S608
                f"VALUES (%s, %s, %s, %s, %s) ON CONFLICT (pool_key, assignee_key) "
                f"DO UPDATE SET open = {open_table}.open + excluded.open",
                [(pool or None, agent or None, pool, agent, opened[(pool, agent)])
                 for pool, agent in sorted(opened)],
            )  # fmt: skip
    if not deltas:
        return
    table, columns = ReportDay._meta.db_table, ReportDay.COUNTS
    # Names from the model, never from input; the values are parameters.
    sql = (
        f"INSERT INTO {table} (day, pool_id, assignee_id, pool_key, assignee_key, "  # noqa: S608
        f"{', '.join(columns)}) VALUES ({', '.join(['%s'] * (5 + len(columns)))}) "
        f"ON CONFLICT (day, pool_key, assignee_key) DO UPDATE SET "
        + ", ".join(f"{name} = {table}.{name} + excluded.{name}" for name in columns)
    )
    rows = [
        (day, pool or None, agent or None, pool, agent, *(deltas[key][name] for name in columns))
        for key in sorted(deltas)
        for day, pool, agent in [key]
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _models(apps):
    """The tables a rebuild reads and writes: the project's, or a migration's."""
    if apps is None:
        return TicketFact, ReportDay, ReportOpen, ReportMark, ReportEvent, Deadline, Consultation
    return (
        apps.get_model("reports", "TicketFact"),
        apps.get_model("reports", "ReportDay"),
        apps.get_model("reports", "ReportOpen"),
        apps.get_model("reports", "ReportMark"),
        apps.get_model("reports", "ReportEvent"),
        apps.get_model("sla", "Deadline"),
        apps.get_model("sla", "Consultation"),
    )


def _rebuild_marks(totals: dict[Key, Counter], batch_size: int, apps=None) -> None:
    """Replace every ticket's marks (reports.marks) by what its deadlines, events and
    consultations say, and count them into ``totals``: ``batch_size`` tickets at a time."""
    fact_model, _day_model, _open, mark_model, event_model, deadline_model, consultation_model = (
        _models(apps)
    )
    ticket_model: Any = apps.get_model("tickets", "Ticket") if apps else Ticket
    answer_model = apps.get_model("surveys", "Answer") if apps else Answer
    tz = marks.zone()
    mark_model.objects.all().delete()
    last = 0
    while True:
        tickets = list(
            ticket_model.objects.filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", "pool_id", "assignee_id")[:batch_size]
        )
        if not tickets:
            break
        span = (tickets[0][0], tickets[-1][0])
        last = span[1]
        keys = {pk: (pool or 0, agent or 0) for pk, pool, agent in tickets}
        keys.update(
            (pk, (pool, agent))
            for pk, pool, agent in fact_model.objects.filter(
                pk__gte=span[0], pk__lte=span[1]
            ).values_list("ticket_id", "pool_key", "assignee_key")
        )
        found = [
            marks.of_deadline(row, tz)
            for row in deadline_model.objects.filter(
                marks.DEADLINES, ticket_id__gte=span[0], ticket_id__lte=span[1]
            )
            .order_by()
            .values_list(*marks.DEADLINE_FIELDS)
        ]
        found += [
            marks.of_event(row, tz)
            for row in event_model.objects.filter(ticket_id__gte=span[0], ticket_id__lte=span[1])
            .order_by()
            .values_list("ticket_id", "kind", "at")
        ]
        found += [
            marks.of_consultation(row, tz)
            for row in consultation_model.objects.filter(
                ticket_id__gte=span[0], ticket_id__lte=span[1], answered_at__isnull=False
            )
            .order_by()
            .values_list(*marks.CONSULTATION_FIELDS)
        ]
        for row in (
            answer_model.objects.filter(
                marks.ANSWERS,
                response__ticket_id__gte=span[0],
                response__ticket_id__lte=span[1],
            )
            .order_by()
            .values_list(*marks.ANSWER_FIELDS)
        ):
            found += marks.of_answer(row, tz)
        rows = marks.rows((mark for mark in found if mark), keys)
        marks.count(rows, totals)
        mark_model.objects.bulk_create(
            (
                mark_model(ticket_id=ticket, measure=measure, day=day, previous=previous,
                           pool_key=pool, assignee_key=agent, value=value)
                for ticket, measure, day, previous, pool, agent, value in rows
            ),
            batch_size=5000,
        )  # fmt: skip


def rebuild(batch_size: int = 20000, apps=None) -> int:
    """Replace the roll-up, the open counts and the marks by the sums of the facts and the
    marks of the deadlines, events and consultations; the number of day rows written.
    ``apps``: a migration's models (the migration that added the marks runs it)."""
    fact_model, day_model, open_model, _marks, _events, _deadlines, _consultations = _models(apps)
    totals: dict[Key, Counter] = defaultdict(Counter)
    fields = [
        "pk", "created_at", "channel", "first_response_at", "first_response_seconds",
        "first_response_business_seconds", "finished_at", "handling_seconds",
        "handling_business_seconds", "late", "consulted", "pool_key", "assignee_key", "open",
    ]  # fmt: skip
    opened: Counter = Counter()
    histogram: Counter = Counter()
    zone = ZoneInfo(settings.TIME_ZONE)
    for fact in fact_model.objects.only(*fields).order_by("pk").iterator(chunk_size=batch_size):
        contributions(fact, totals)
        durations.contributions(fact, histogram, zone=zone)
        opened[(fact.pool_key, fact.assignee_key)] += fact.open
    durations.write(histogram, apps)
    _rebuild_marks(totals, batch_size, apps)
    open_model.objects.all().delete()
    open_model.objects.bulk_create(
        open_model(pool_id=pool or None, assignee_id=agent or None, pool_key=pool,
                   assignee_key=agent, open=count)
        for (pool, agent), count in opened.items()
        if count
    )  # fmt: skip
    day_model.objects.all().delete()
    rows = [
        day_model(
            day=day,
            pool_id=pool or None,
            assignee_id=agent or None,
            pool_key=pool,
            assignee_key=agent,
            **{name: counts[name] for name in ReportDay.COUNTS},
        )
        for (day, pool, agent), counts in totals.items()
        if any(counts.values())
    ]
    day_model.objects.bulk_create(rows, batch_size=5000)
    return len(rows)
