"""Counts of distinct tickets from the roll-up (reports.marks): a ticket counted on several
days of a period counts once; the kept marks equal a rebuild; every figure read from the
roll-up equals the figure from the tables."""

import io
from datetime import date, timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from reports import rollup
from reports.figures import DASHBOARD, PERIOD_REPORT, measure_keys
from reports.measures import MARKED, Period, compute
from reports.models import ReportDay, ReportEvent, ReportMark, TicketFact
from reports.services import refresh_facts
from sla.models import Deadline
from sla.services import sweep_deadlines
from tests.factories import TicketFactory
from tests.reports.conftest import PERIOD, at
from tests.reports.test_rollup import snapshot
from tickets.models import Ticket

KEYS = measure_keys(
    [*(key for _title, items in DASHBOARD for pair in items for key in pair if key), *PERIOD_REPORT]
)


def marks():
    return sorted(
        ReportMark.objects.values_list(
            "ticket_id", "measure", "day", "previous", "pool_key", "assignee_key"
        )
    )


def periods_within(first: date, last: date):
    """Every period of whole days from ``first`` to ``last``."""
    days = (last - first).days + 1
    for start in range(days):
        for end in range(start, days):
            yield Period(first + timedelta(days=start), first + timedelta(days=end))


def assert_same_figures(periods, keys=KEYS, tickets=None):
    tickets = tickets if tickets is not None else Ticket.objects.all()
    named = {str(n): period for n, period in enumerate(periods)}
    tables = compute(tickets, named, keys)
    days = compute(tickets, named, keys, days=Q())
    for name, period in named.items():
        for key in keys:
            assert days[name].get(key) == pytest.approx(tables[name].get(key)), (period, key)


@pytest.mark.parametrize("zone", ["UTC", "Europe/Warsaw"])
def test_a_ticket_counted_on_several_days_counts_once(db, pool, agent, settings, zone):
    settings.TIME_ZONE = zone
    ticket = TicketFactory(pool=pool, assignee=agent, created_at=at("2026-03-25", "10:00"))
    other = TicketFactory(pool=pool, created_at=at("2026-03-25", "10:00"))
    for one in (ticket, other):
        TicketFact.objects.create(
            ticket=one, created_at=one.created_at, pool_key=pool.pk,
            assignee_key=one.assignee_id or 0,
        )  # fmt: skip
    # Reopened on the 27th, twice on the 29th (the change to summer time in Warsaw) and on
    # the 31st; next responses met on three days, one missed; the other ticket once.
    for clock in (("2026-03-27", "23:30"), ("2026-03-29", "01:30"), ("2026-03-29", "03:30"),
                  ("2026-03-31", "00:10")):  # fmt: skip
        ReportEvent.objects.create(
            ticket=ticket, kind="reopened", at=at(*clock), pool=pool, assignee=agent
        )
    ReportEvent.objects.create(ticket=other, kind="reopened", at=at("2026-03-29", "12:00"))
    for day in ("2026-03-26", "2026-03-28", "2026-03-30"):
        Deadline.objects.create(
            ticket=ticket, pool=pool, target="next_response", budget_seconds=60, state="met",
            met_at=at(day, "16:00"),
        )  # fmt: skip
    Deadline.objects.create(
        ticket=ticket, pool=pool, target="next_response", budget_seconds=60, state="met",
        met_at=at("2026-03-29", "16:00"), breached_at=at("2026-03-29", "15:00"),
    )  # fmt: skip
    rollup.rebuild()
    with timezone.override(zone):
        march = Period(date(2026, 3, 24), date(2026, 4, 1))
        values = compute(Ticket.objects.all(), {"now": march}, MARKED, days=Q())["now"]
        assert values["reopened"] == 2
        assert values["sla_next_response_met"] == 1
        assert values["sla_next_response_breached"] == 1
        assert_same_figures(periods_within(march.start, march.end), list(MARKED))
    # The agent's own: the roll-up's scope keys.
    assert ReportMark.objects.filter(ticket=ticket, measure="reopened").count() == 3
    assert ReportMark.objects.filter(previous__isnull=False).count() == 4


@pytest.mark.parametrize("zone", ["UTC", "Europe/Warsaw"])
def test_the_months_figures_from_the_roll_up_equal_the_tables(month, settings, zone):
    # Warsaw: across the end of summer time; C reopened, D merged, E's consultation late.
    settings.TIME_ZONE = zone
    call_command("rebuild_report_facts", stdout=io.StringIO())
    with timezone.override(zone):
        values = compute(Ticket.objects.all(), {"now": PERIOD}, KEYS, days=Q())["now"]
        assert values["reopened"] == 1 and values["replied_after_close"] == 1
        assert values["consultation_late"] == 1 and values["consultation_on_time"] == 0
        assert values["sla_first_response_breached"] >= 1
        weeks = [Period(PERIOD.start + timedelta(days=7 * n), PERIOD.start + timedelta(
            days=7 * n + 6)) for n in range(4)]  # fmt: skip
        days = [Period(PERIOD.start + timedelta(days=n), PERIOD.start + timedelta(days=n))
                for n in range(PERIOD.days)]  # fmt: skip
        assert_same_figures([PERIOD, PERIOD.before(), *weeks, *days])


def test_kept_marks_equal_a_rebuild_after_a_sweep(
    month, settings, django_capture_on_commit_callbacks
):
    settings.TIME_ZONE = "Europe/Warsaw"
    ReportMark.objects.all().delete()
    ReportDay.objects.all().delete()
    call_command("rebuild_report_facts", stdout=io.StringIO())
    before = ReportDay.objects.filter(sla_first_response_breached__gt=0).count()
    # G was never answered: the sweep misses its first response; the receivers follow.
    with django_capture_on_commit_callbacks(execute=True):
        sweep_deadlines(now=at("2026-11-16", "08:00"))
    assert Deadline.objects.filter(ticket=month["G"], breached_at__isnull=False).exists()
    assert ReportDay.objects.filter(sla_first_response_breached__gt=0).count() == before + 1
    kept, kept_marks = snapshot(), marks()
    assert any(row[1] == "sla_first_response_breached" for row in kept_marks)
    rollup.rebuild()
    assert snapshot() == kept and marks() == kept_marks
    with timezone.override("Europe/Warsaw"):
        assert_same_figures([PERIOD, Period(date(2026, 11, 16), date(2026, 11, 16))])


def test_a_refresh_moves_a_tickets_marks(month, settings, other_pool):
    settings.TIME_ZONE = "Europe/Warsaw"
    call_command("rebuild_report_facts", stdout=io.StringIO())
    ticket = month["C"]
    Ticket.objects.filter(pk=ticket.pk).update(pool=other_pool)
    with time_machine.travel(at("2026-11-16", "09:00"), tick=False):
        refresh_facts([ticket.pk])
    assert set(ReportMark.objects.filter(ticket=ticket).values_list("pool_key", flat=True)) == {
        other_pool.pk
    }
    kept, kept_marks = snapshot(), marks()
    rollup.rebuild()
    assert snapshot() == kept and marks() == kept_marks
    with timezone.override("Europe/Warsaw"):
        for pool in (ticket.pool_id, other_pool.pk):
            scoped = Ticket.objects.filter(pool_id=pool)
            values = compute(scoped, {"now": PERIOD}, KEYS)["now"]
            days = compute(scoped, {"now": PERIOD}, KEYS, days=Q(pool_key=pool))["now"]
            for key in KEYS:
                assert days.get(key) == pytest.approx(values.get(key)), (pool, key)


def test_survey_answers_kept_as_they_come_equal_a_rebuild(month, settings):
    # The month's answers were saved through the receivers (no rebuild since): ratings 5
    # and 3, scores 10, 9 and 3, the operator's 4.
    kept, kept_marks = snapshot(), marks()
    sums = {name: sum(getattr(day, name) for day in ReportDay.objects.all())
            for name in ReportDay.ANSWER_SUMS}  # fmt: skip
    assert sums == {
        "rating_count": 2, "rating_sum": 8, "rating_high": 1, "score_count": 3,
        "score_promoters": 2, "score_detractors": 1, "operator_count": 1, "operator_sum": 4,
    }  # fmt: skip
    rollup.rebuild()
    assert snapshot() == kept and marks() == kept_marks
    with timezone.override("Europe/Warsaw"):
        values = compute(Ticket.objects.all(), {"now": PERIOD}, KEYS, days=Q())["now"]
    assert values["rated"] == 2 and values["scored"] == 3 and values["average_rating"] == 4
    assert values["csat"] == 50 and values["operator_rating"] == 4
    assert values["nps"] == pytest.approx(100 / 3)
