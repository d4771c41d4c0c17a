"""Exact medians from the per-day histogram of durations (reports.durations)."""

import io
import random
import statistics
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from reports import durations, rollup
from reports.measures import Period, compute
from reports.models import ReportDuration, ReportDurationValue, TicketFact
from reports.services import refresh_facts
from tests.factories import TicketFactory
from tests.reports.conftest import PERIOD
from tickets.models import Ticket

MEDIANS = list(durations.MEDIANS)


def histogram():
    rows = ReportDuration.objects.values_list("day", "measure", "bucket", "count")
    values = ReportDurationValue.objects.values_list("day", "measure", "bucket", "value", "count")
    return sorted(row for row in rows if row[3]), sorted(row for row in values if row[4])


def test_buckets_are_exact_ranges_in_order():
    values = sorted({*range(5000), *(2**k + d for k in range(4, 40) for d in (-1, 0, 1))})
    numbers = [durations.bucket(seconds) for seconds in values]
    assert numbers == sorted(numbers)
    for seconds, number in zip(values, numbers, strict=True):
        low, high = durations.bounds(number)
        assert low <= seconds < high, seconds
    assert [durations.bucket(s) for s in (15, 16, 17, 18)] == [15, 40, 40, 41]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Warsaw"])
@pytest.mark.parametrize("count", [1, 2, 7, 8, 41])
def test_medians_equal_those_of_the_facts(db, settings, zone, count):
    settings.TIME_ZONE = zone
    rng = random.Random(count)
    tz = ZoneInfo(zone)
    # Around the change to summer time (29 March), values on bucket edges and repeated.
    edges = [0, 1, 15, 16, 17, 31, 32, 3599, 3600, 3601, 86400, 2**20, 2**20 - 1]
    for n in range(count):
        created = datetime(2026, 3, 27, tzinfo=tz) + timedelta(minutes=rng.randrange(5 * 1440))
        value = rng.choice(edges) if n % 2 else rng.randrange(10**6)
        TicketFact.objects.create(
            ticket=TicketFactory(created_at=created), created_at=created,
            first_response_at=created + timedelta(seconds=value), first_response_seconds=value,
            first_response_business_seconds=value // 3,
            finished_at=created + timedelta(hours=rng.randrange(48)) if n % 3 else None,
            handling_seconds=rng.choice(edges), handling_business_seconds=rng.randrange(99),
        )  # fmt: skip
    rollup.rebuild()
    periods = {
        str(n): Period(date(2026, 3, 27) + timedelta(days=a), date(2026, 3, 27) + timedelta(days=b))
        for n, (a, b) in enumerate([(0, 0), (1, 2), (2, 2), (0, 6), (3, 4), (5, 6)])
    }
    with timezone.override(zone):
        facts = compute(Ticket.objects.all(), periods, MEDIANS)
        days = compute(Ticket.objects.all(), periods, MEDIANS, days=Q())
    values = [f.first_response_seconds for f in TicketFact.objects.all()]
    whole = Period(date(2026, 3, 20), date(2026, 4, 30))
    with timezone.override(zone):
        everything = compute(Ticket.objects.all(), {"w": whole}, MEDIANS, days=Q())["w"]
    assert everything["first_response_median"] == statistics.median(values)
    for name in periods:
        for key in MEDIANS:
            assert days[name][key] == facts[name][key], (name, key)


def test_the_kept_histogram_equals_a_rebuild(month, settings):
    settings.TIME_ZONE = "Europe/Warsaw"
    ReportDuration.objects.all().delete()
    ReportDurationValue.objects.all().delete()
    call_command("rebuild_report_facts", stdout=io.StringIO())
    rebuilt = histogram()
    assert sum(row[3] for row in rebuilt[0] if row[1] == "handling_median") == 5  # solved
    assert sum(row[4] for row in rebuilt[1] if row[1] == "handling_median") == 5
    ReportDuration.objects.all().delete()
    ReportDurationValue.objects.all().delete()
    for ticket in Ticket.objects.all():  # the receivers' path: each ticket's old out, new in
        TicketFact.objects.filter(ticket=ticket).delete()
    refresh_facts(Ticket.objects.values_list("pk", flat=True))
    refresh_facts(Ticket.objects.values_list("pk", flat=True))  # no change: nothing moves
    assert histogram() == rebuilt
    with timezone.override("Europe/Warsaw"):
        facts = compute(Ticket.objects.all(), {"now": PERIOD}, MEDIANS)["now"]
        days = compute(Ticket.objects.all(), {"now": PERIOD}, MEDIANS, days=Q())["now"]
    assert facts == days and facts["handling_median"] is not None
