"""The report pages: figures, links whose queue lists exactly what they count, exports."""

import re
from html import unescape

import pytest
from django.urls import reverse

from tests.reports.conftest import PERIOD

RANGE = {"period": "custom", "start": PERIOD.start.isoformat(), "end": PERIOD.end.isoformat()}


def links(html: str) -> list[tuple[str, str]]:
    """(href, shown number) of every drill-down link on the page."""
    found = re.findall(r'<a href="(/tickets/\?[^"]*report=[^"]*)">([^<]*)</a>', html)
    return [(unescape(href), text) for href, text in found]


def queue_count(client, href) -> int:
    response = client.get(href)
    assert response.status_code == 200
    # The count the queue prints is the number of rows it lists.
    assert response.context["matches"] == len(response.context["tickets"])
    return len(response.context["tickets"])


@pytest.mark.parametrize("page", ["reports:dashboard", "reports:breakdown", "reports:period"])
def test_every_number_links_to_a_queue_listing_that_many_tickets(
    client, supervisor, month, page, settings
):
    settings.QUEUE_PAGE_SIZE = 100
    client.force_login(supervisor)
    response = client.get(reverse(page), RANGE)
    assert response.status_code == 200
    found = links(response.content.decode())
    assert len(found) > 5
    for href, shown in found:
        assert queue_count(client, href) == int(shown), href


def test_the_dashboard_shows_the_months_figures_and_help(client, supervisor, month):
    client.force_login(supervisor)
    html = client.get(reverse("reports:dashboard"), RANGE).content.decode()
    assert re.search(r'id="figure-received".*?data-value><a [^>]*>7</a>', html, re.S)
    assert re.search(r'id="figure-handling_business_median".*?data-value>4 h 00 min', html, re.S)
    assert "merged and cancelled tickets are never solved" in html


def test_an_agent_sees_only_their_own_figures(client, agent, other_agent, month):
    client.force_login(other_agent)  # nothing of the month is theirs
    html = client.get(reverse("reports:dashboard"), RANGE).content.decode()
    assert re.search(r'id="figure-received".*?data-value><a [^>]*>0</a>', html, re.S)
    client.force_login(agent)
    html = client.get(reverse("reports:dashboard"), RANGE).content.decode()
    # All but D, which nobody took before it was merged (the others were taken by replying).
    assert re.search(r'id="figure-solved".*?data-value><a [^>]*>5</a>', html, re.S)


def test_csv_and_xlsx_exports(client, supervisor, month):
    client.force_login(supervisor)
    response = client.get(reverse("reports:breakdown"), {**RANGE, "by": "pool", "export": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("Pool,Received,Solved")
    assert lines[-1].startswith("Total,7,5,5")
    response = client.get(reverse("reports:period"), {**RANGE, "export": "xlsx"})
    assert response.content[:2] == b"PK"


# Session, user, profile, permissions (5); pools, topics, products, agents for the filters
# (4); then one query per table (or index) measured, in both periods at once (the
# dashboard: the open counts, the daily roll-up for the facts' sums, the counts of distinct
# tickets (SLA, reopens, rated) and the survey sums, the repeats of those counts in the
# marks, the histogram of durations and the values in the medians' buckets); the breakdown's
# rows read each table once (grouped by the tickets' pool), its total row as the dashboard
# does; the period report adds its per-agent table.
@pytest.mark.parametrize(
    ("page", "queries"),
    [("reports:dashboard", 14), ("reports:breakdown", 14), ("reports:period", 16)],
)
def test_report_pages_run_a_fixed_number_of_queries(
    client, supervisor, month, page, queries, django_assert_num_queries
):
    client.force_login(supervisor)
    with django_assert_num_queries(queries):
        client.get(reverse(page), RANGE)


@pytest.mark.parametrize("page", ["reports:dashboard", "reports:breakdown", "reports:period"])
def test_each_page_downloads_as_a_pdf(client, supervisor, month, page):
    client.force_login(supervisor)
    response = client.get(reverse(page), {**RANGE, "export": "pdf"})
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(b"%PDF-") and len(response.content) > 5000


def test_the_pdf_chart_draws_the_tables_figures():
    from base64 import b64decode

    from reports.pdf import chart_svg

    image = chart_svg(
        {"stacked": False, "labels": ["Billing", "Fiber"],
         "datasets": [{"label": "Received", "data": [3, 5]}]}
    )  # fmt: skip
    svg = b64decode(image.removeprefix("data:image/svg+xml;base64,")).decode()
    assert svg.count("<svg") == 1 and "Billing" in svg and "Received" in svg
    assert chart_svg({"stacked": False, "labels": [], "datasets": []}) == ""
