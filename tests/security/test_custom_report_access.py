"""Custom and saved reports show nobody a pool they are not in: a saved report is computed
in the reader's scope (on the page, in its exports and in the mailed PDF), and only its
owner changes, shares or deletes it."""

from datetime import date

import pytest
from django.urls import reverse

from people.models import Role
from people.services import create_agent
from reports.custom import form_for
from reports.models import SavedReport
from reports.saved import report_context
from reports.services import refresh_facts
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

BY_POOL = {"measures": ["received"], "group_by": "pool", "period": "last30"}


@pytest.fixture
def tickets(pool, other_pool, agent, other_agent):
    mine = TicketFactory.create_batch(2, pool=pool, assignee=agent)
    theirs = TicketFactory.create_batch(3, pool=other_pool, assignee=other_agent)
    refresh_facts([ticket.pk for ticket in [*mine, *theirs]])
    return mine, theirs


@pytest.fixture
def report(supervisor, other_pool, agent):
    """A supervisor's report of the other pool, shared (before a demotion, or by a direct
    change in the database) with an agent who is not in that pool."""
    saved = SavedReport.objects.create(
        owner=supervisor, name="Hardware", query={**BY_POOL, "pool": str(other_pool.pk)}
    )
    saved.shared_with.add(agent)
    return saved


def test_an_agents_custom_report_holds_only_their_own_tickets(
    client, agent, other_agent, other_pool, tickets
):
    client.force_login(agent)
    url = reverse("reports:custom")
    for params in (
        BY_POOL,
        {**BY_POOL, "pool": other_pool.pk},
        {**BY_POOL, "assignee": other_agent.pk},
    ):
        response = client.get(url, params)
        html = response.content.decode()
        assert other_pool.name not in html.split('id="report-table"')[1]
        assert response.context["custom"].total[0].value == 2
    csv = client.get(url, {**BY_POOL, "group_by": "agent", "export": "csv"}).content.decode()
    assert other_agent.username not in csv and csv.splitlines()[-1].startswith("Total,2")


def test_a_shared_report_is_computed_in_the_readers_scope(
    client, supervisor, agent, other_pool, report, tickets
):
    client.force_login(supervisor)
    response = client.get(reverse("reports:saved", args=[report.pk]))
    assert [labels for labels, _cells in response.context["custom"].rows] == [["Hardware"]]
    assert response.context["custom"].total[0].value == 3

    client.force_login(agent)
    for params in ({}, {"export": "csv"}, {"export": "pdf"}):
        response = client.get(reverse("reports:saved", args=[report.pk]), params)
        assert response.status_code == 200
    response = client.get(reverse("reports:saved", args=[report.pk]))
    table = response.context["custom"]
    # The pool the agent is not in is dropped (as the queue drops it): their own figures.
    assert [labels for labels, _cells in table.rows] == [["Billing"]]
    assert table.total[0].value == 2
    html = response.content.decode().split('id="report-table"')[1]
    assert other_pool.name not in html
    csv = client.get(reverse("reports:saved", args=[report.pk]), {"export": "csv"}).content
    assert other_pool.name.encode() not in csv


def test_the_mailed_pdf_is_computed_in_each_readers_scope(
    supervisor, agent, other_pool, report, tickets
):
    from django.utils import timezone

    from reports.measures import Period

    period = Period(date(2020, 1, 1), timezone.localdate())
    theirs = report_context(report, agent, period)["custom"]
    assert [labels for labels, _cells in theirs.rows] == [["Billing"]]
    assert theirs.total[0].value == 2
    owners = report_context(report, supervisor, period)["custom"]
    assert [labels for labels, _cells in owners.rows] == [["Hardware"]]


def test_nobody_else_opens_changes_or_deletes_a_report(
    client, other_agent, customer_user, report, tickets
):
    stranger = create_agent(username="stranger", password=None, role=Role.SUPERVISOR)
    for user in (other_agent, stranger, customer_user):
        client.force_login(user)
        assert client.get(reverse("reports:saved", args=[report.pk])).status_code == 404
        for name in ("reports:share", "reports:delete"):
            assert client.post(reverse(name, args=[report.pk])).status_code == 404
    assert SavedReport.objects.filter(pk=report.pk).exists()


def test_customers_and_visitors_get_no_custom_report(client, customer_user):
    assert client.get(reverse("reports:custom")).status_code == 302
    client.force_login(customer_user)
    assert client.get(reverse("reports:custom")).status_code == 404
    assert client.post(reverse("reports:save"), {**BY_POOL, "name": "x"}).status_code == 404


def test_a_report_is_shared_only_with_supervisors(client, supervisor, agent, tickets):
    saved = SavedReport.objects.create(owner=supervisor, name="Mine", query=BY_POOL)
    client.force_login(supervisor)
    response = client.post(reverse("reports:share", args=[saved.pk]), {"shared_with": [agent.pk]})
    assert response.status_code == 400 and not saved.shared_with.exists()


def test_only_known_parameters_are_saved(client, supervisor, tickets):
    client.force_login(supervisor)
    client.post(
        reverse("reports:save"),
        {**BY_POOL, "name": "Safe", "report": "received:2000-01-01:2100-01-01", "q": "x"},
    )
    query = SavedReport.objects.get().query
    assert set(query) == {"measures", "group_by", "period"}
    assert form_for(query).is_valid()
