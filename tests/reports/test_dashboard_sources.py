"""The dashboard's totals read each table through its own index (facts by the date they
count on), the counts of distinct tickets from the roll-up and its marks: the same figures
as one query per table."""

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from reports.figures import DASHBOARD, PERIOD_REPORT, measure_keys
from reports.measures import MEASURES, _aggregate, compute
from reports.models import TicketFact
from tests.reports.conftest import RANDOM_PERIOD
from tests.reports.test_rollup import _with_keys
from tickets.models import Ticket

DASHBOARD_KEYS = measure_keys(
    [key for _title, items in DASHBOARD for pair in items for key in pair if key]
)


def _tables(queries) -> list[str]:
    return sorted(query["sql"].split(" FROM ")[1].split()[0] for query in queries)


@pytest.mark.parametrize("keys", [DASHBOARD_KEYS, measure_keys(PERIOD_REPORT)])
def test_split_sources_give_the_figures_of_one_query_per_table(random_month, settings, keys):
    settings.TIME_ZONE = "UTC"
    _with_keys()
    periods = {"now": RANDOM_PERIOD, "before": RANDOM_PERIOD.before()}
    with timezone.override("UTC"):
        whole = compute(Ticket.objects.all(), periods, keys)
        with CaptureQueriesContext(connection) as queries:
            split = compute(Ticket.objects.all(), periods, keys, days=Q())
    if keys is DASHBOARD_KEYS:
        # Medians from the histogram, then the middle values within their buckets;
        # the counts of distinct tickets (SLA, reopens) from the roll-up less the repeats
        # in the marks.
        tables = _tables(queries)
        assert tables.count('"reports_reportduration"') == 1
        assert sum('"reports_reportdurationvalue"' in query["sql"] for query in queries) == 1
        assert '"reports_ticketfact"' not in tables
        assert tables.count('"reports_reportmark"') == 1
        assert '"sla_deadline"' not in tables and '"reports_reportevent"' not in tables
        assert any(whole["now"].get(key) for key in keys if key.startswith("sla_"))
        assert whole["now"].get("handling_median") is not None
    assert any(whole["now"].get(key) for key in keys)
    for name in periods:
        for key in keys:
            assert split[name].get(key) == pytest.approx(whole[name].get(key)), (name, key)


def test_a_grouping_reads_each_table_once(random_month, settings):
    settings.TIME_ZONE = "UTC"
    _with_keys()
    keys = ["first_response_median", "handling_median", "sla_resolution_met"]
    keys += ["sla_resolution_breached", "received_by_mail"]
    with timezone.override("UTC"), CaptureQueriesContext(connection) as queries:
        compute(Ticket.objects.all(), {"now": RANDOM_PERIOD}, keys, dimension="topic", days=Q())
    assert _tables(queries) == ['"reports_ticketfact"', '"sla_deadline"']


def test_totals_equal_djangos_aggregate_even_for_no_rows(random_month):
    periods = {"now": RANDOM_PERIOD}
    for key in ("received", "handling_median", "handling_average", "solved"):
        expressions = {key: MEASURES[key].expression(RANDOM_PERIOD)}
        for rows in (TicketFact.objects.all(), TicketFact.objects.none(),
                     TicketFact.objects.filter(pk__in=[])):  # fmt: skip
            assert _aggregate(rows.order_by(), expressions) == rows.aggregate(**expressions)
    assert compute(Ticket.objects.none(), periods, ["received"])["now"]["received"] == 0
