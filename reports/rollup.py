"""The daily roll-up (ReportDay): each ticket's facts as additive figures per day, pool and
agent, and the open tickets per pool and agent (ReportOpen); kept by ``refresh_facts`` with
atomic increments, rebuilt from the facts."""

from collections import Counter, defaultdict
from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from reports.models import ReportDay, ReportOpen, TicketFact
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


def changes(old, new) -> tuple[dict[Key, Counter], dict[OpenKey, int]]:
    """What replacing the facts ``old`` by ``new`` changes in the roll-up: (day rows, open
    counts)."""
    deltas: dict[Key, Counter] = defaultdict(Counter)
    opened: Counter = Counter()
    for sign, facts in ((-1, old), (1, new)):
        for fact in facts:
            contributions(fact, deltas, sign)
            opened[(fact.pool_key, fact.assignee_key)] += sign * fact.open
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


def rebuild(batch_size: int = 20000) -> int:
    """Replace the roll-up and the open counts by the sums of the facts; the number of day
    rows written."""
    totals: dict[Key, Counter] = defaultdict(Counter)
    fields = [
        "pk", "created_at", "channel", "first_response_at", "first_response_seconds",
        "first_response_business_seconds", "finished_at", "handling_seconds",
        "handling_business_seconds", "late", "consulted", "pool_key", "assignee_key", "open",
    ]  # fmt: skip
    opened: Counter = Counter()
    for fact in TicketFact.objects.only(*fields).order_by("pk").iterator(chunk_size=batch_size):
        contributions(fact, totals)
        opened[(fact.pool_key, fact.assignee_key)] += fact.open
    ReportOpen.objects.all().delete()
    ReportOpen.objects.bulk_create(
        ReportOpen(pool_id=pool or None, assignee_id=agent or None, pool_key=pool,
                   assignee_key=agent, open=count)
        for (pool, agent), count in opened.items()
        if count
    )  # fmt: skip
    ReportDay.objects.all().delete()
    rows = [
        ReportDay(
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
    ReportDay.objects.bulk_create(rows, batch_size=5000)
    return len(rows)
