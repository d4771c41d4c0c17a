"""The daily roll-up: kept by the events it equals a rebuild from the facts, and the pages'
figures read from it equal the same figures computed from the facts."""

import io
from datetime import date

import pytest
import time_machine
from django.core.management import call_command
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports import rollup
from reports.measures import ROLLUP, Period, compute
from reports.models import ReportDay, ReportEvent, ReportOpen, TicketFact
from reports.scope import scope_of
from tests.reports.conftest import PERIOD, RANDOM_PERIOD, at
from tickets.models import Ticket
from tickets.services import assign_ticket, update_ticket
from tickets.states import OPEN_STATUSES

KEYS = [*ROLLUP, "open_now"]


def snapshot():
    columns = ("day", "pool_id", "assignee_id", "pool_key", "assignee_key", *ReportDay.COUNTS)
    rows = ReportDay.objects.values_list(*columns)
    # Rows brought back to zero by refreshes say nothing; a rebuild does not write them.
    return sorted((row for row in rows if any(row[5:])), key=lambda row: (row[0], *row[3:]))


def open_counts():
    rows = ReportOpen.objects.values_list(
        "pool_key", "assignee_key", "pool_id", "assignee_id", "open"
    )
    return sorted(row for row in rows if row[4])


def test_the_kept_roll_up_equals_a_rebuild(
    month, agent, other_agent, other_pool, settings, django_capture_on_commit_callbacks
):
    settings.TIME_ZONE = "Europe/Warsaw"  # DST ended on 25 October inside the month
    TicketFact.objects.all().delete()
    ReportDay.objects.all().delete()
    call_command("rebuild_report_facts", stdout=io.StringIO())
    # A ticket moves to another pool and agent: its figures move with it.
    ticket = month["C"]
    with (
        time_machine.travel(at("2026-11-14", "10:00"), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        update_ticket(ticket, actor=agent, pool=other_pool)
        ticket.refresh_from_db()
        assign_ticket(ticket, agent=other_agent, actor=other_agent)
    kept, kept_open = snapshot(), open_counts()
    # G is open (nobody took it); the others are solved or merged.
    assert kept_open == [(month["G"].pool_id, 0, month["G"].pool_id, None, 1)]
    assert len(kept) >= 8
    assert {row[4] for row in kept} == {agent.pk, other_agent.pk, 0}
    assert sum(row[5] for row in kept) == Ticket.objects.count() == 7  # received
    assert sum(row[10] for row in kept) == 5  # solved
    call_command("rebuild_report_facts", stdout=io.StringIO())
    assert snapshot() == kept and open_counts() == kept_open
    assert ReportDay.objects.count() == len(kept)


def test_a_rebuild_repairs_a_wrong_roll_up(month):
    call_command("rebuild_report_facts", stdout=io.StringIO())
    kept = snapshot()
    ReportDay.objects.update(received=99)
    ReportDay.objects.create(day=date(2020, 1, 1), pool_key=0, assignee_key=0, solved=3)
    assert rollup.rebuild() == len(kept)
    assert snapshot() == kept


def _with_keys():
    for ticket in Ticket.objects.all():
        TicketFact.objects.filter(ticket=ticket).update(
            pool_key=ticket.pool_id or 0,
            assignee_key=ticket.assignee_id or 0,
            open=ticket.status in OPEN_STATUSES,
        )
        ReportEvent.objects.filter(ticket=ticket).update(
            pool=ticket.pool_id, assignee=ticket.assignee_id
        )
    rollup.rebuild()


@pytest.mark.parametrize("zone", ["UTC", "Europe/Warsaw"])
@pytest.mark.parametrize("dimension", [None, "pool", "agent"])
def test_figures_from_the_roll_up_equal_those_from_the_facts(
    random_month, zone, dimension, settings
):
    settings.TIME_ZONE = zone
    _with_keys()
    tickets = Ticket.objects.all()
    # March holds the change to summer time in Warsaw; a day, a week and the month.
    periods = {
        "month": RANDOM_PERIOD,
        "day": Period(date(2026, 3, 29), date(2026, 3, 29)),
        "week": Period(date(2026, 3, 23), date(2026, 3, 29)),
    }
    with timezone.override(zone):
        facts = compute(tickets, periods, KEYS, dimension=dimension)
        with CaptureQueriesContext(connection) as queries:
            days = compute(tickets, periods, KEYS, dimension=dimension, days=Q())
    tables = sorted(query["sql"].split(" FROM ")[1].split()[0] for query in queries)
    assert tables == ['"reports_reportday"', '"reports_reportopen"']
    if dimension is None:
        facts, days = [{"ids": (), **facts}], [{"ids": (), **days}]
    facts = {row["ids"]: row for row in facts}
    days = {row["ids"]: row for row in days if any(row["month"].values())}
    assert any(row["month"].get("received") for row in facts.values())
    for ids, row in facts.items():
        for name in periods:
            for key in KEYS:
                expected = row[name].get(key)
                got = days[ids][name].get(key) if ids in days else None
                if expected in (None, 0) and got in (None, 0):
                    continue
                assert got == pytest.approx(expected), (ids, name, key)


def test_an_agents_roll_up_scope_is_their_own_tickets_in_their_pools(
    random_month, agent, pool, settings
):
    settings.TIME_ZONE = "UTC"
    Ticket.objects.filter(pk__in=Ticket.objects.order_by("pk")[:20].values("pk")).update(
        assignee=agent
    )
    Ticket.objects.filter(pk__in=Ticket.objects.order_by("pk")[:10].values("pk")).update(pool=pool)
    _with_keys()
    scope = scope_of(agent, {})
    assert scope.days is not None
    # The figures the roll-up keeps, and those of the tables that keep their ticket's pool
    # and agent (facts: the medians; events).
    keys = [*KEYS, "first_response_median", "handling_business_median", "reopened"]
    keys += ["replied_after_close"]
    with timezone.override("UTC"):
        facts = compute(scope.tickets, {"now": RANDOM_PERIOD}, keys)["now"]
        days = compute(scope.tickets, {"now": RANDOM_PERIOD}, keys, days=scope.days)["now"]
    assert facts["received"] == days["received"] <= 10
    for key in keys:
        assert days[key] == pytest.approx(facts[key]) or facts[key] in (None, 0), key
    # A filter the roll-up does not keep: the facts answer.
    assert scope_of(agent, {"priority": "30"}).days is None


def test_another_time_zone_reads_the_facts(month, supervisor, settings):
    settings.TIME_ZONE = "UTC"
    call_command("rebuild_report_facts", stdout=io.StringIO())
    with timezone.override("Europe/Warsaw"), CaptureQueriesContext(connection) as queries:
        values = compute(Ticket.objects.all(), {"now": PERIOD}, KEYS, days=Q())["now"]
    assert values["received"] == 7
    assert not any("reports_reportday" in query["sql"] for query in queries)
