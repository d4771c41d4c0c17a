"""The overdue dashboard: supervisors only, overdue red, due soon amber, filters, polling."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sla.models import Deadline, Target
from tests.factories import PoolFactory, TicketFactory
from tickets.states import Status

DASHBOARD_QUERIES = 10
URL = reverse("sla:overdue")


def deadline(ticket, *, minutes, target=Target.FIRST_RESPONSE, state="running"):
    due = timezone.now() + timedelta(minutes=minutes)
    Deadline.objects.create(
        ticket=ticket, pool_id=ticket.pool_id, target=target, state=state, budget_seconds=3600,
        running_since=due - timedelta(hours=1), due_at=due,
    )  # fmt: skip
    return ticket


@pytest.fixture
def board(pool, agent, other_pool):
    return {
        "late": deadline(TicketFactory(pool=pool, subject="Late one", assignee=agent), minutes=-90),
        "soon": deadline(TicketFactory(pool=pool, subject="Soon one"), minutes=20),
        "later": deadline(TicketFactory(pool=pool, subject="Later one"), minutes=600),
        "other": deadline(
            TicketFactory(pool=other_pool, subject="Other pool late", status=Status.TAKEN),
            minutes=-5,
            target=Target.RESOLUTION,
        ),
        "paused": deadline(TicketFactory(pool=pool, subject="Paused"), minutes=-50, state="paused"),
    }


@pytest.fixture
def supervisor_client(client, supervisor):
    client.force_login(supervisor)
    return client


def test_agents_and_strangers_get_not_found(agent_client, client, board):
    assert agent_client.get(URL).status_code == 404
    client.logout()
    assert client.get(URL).status_code == 302  # to the login page


def test_overdue_is_red_with_an_icon_due_soon_amber_and_later_absent(supervisor_client, board):
    page = supervisor_client.get(URL).content.decode()

    assert "Later one" not in page and "Paused" not in page
    late = page[page.index("Late one") - 400 : page.index("Late one")]
    soon = page[page.index("Soon one") - 400 : page.index("Soon one")]
    assert "table-danger" in late and "deadline-overdue" in late
    assert "table-warning" in soon and "deadline-soon" in soon
    assert "bi-exclamation-triangle-fill" in page
    assert board["late"].get_absolute_url() in page


def test_rows_are_sorted_by_time_left_both_ways(supervisor_client, board):
    ascending = supervisor_client.get(URL).content.decode()
    descending = supervisor_client.get(URL, {"ordering": "-due"}).content.decode()

    order = ["Late one", "Other pool late", "Soon one"]
    assert sorted(order, key=ascending.index) == order
    assert sorted(order, key=descending.index) == order[::-1]


def test_counts_per_pool(supervisor_client, board, pool, other_pool):
    response = supervisor_client.get(URL)

    counts = {c["pool__name"]: (c["overdue"], c["soon"]) for c in response.context["counts"]}
    assert counts == {pool.name: (1, 1), other_pool.name: (1, 0)}


def test_filters_by_pool_agent_and_target(supervisor_client, board, pool, agent):
    def subjects(**params):
        rows = supervisor_client.get(URL, params).context["rows"]
        return {row.ticket.subject for row in rows}

    assert subjects(pool=pool.pk) == {"Late one", "Soon one"}
    assert subjects(agent=agent.pk) == {"Late one"}
    assert subjects(target="resolution") == {"Other pool late"}


def test_a_bad_filter_value_is_an_error_not_a_crash(supervisor_client, board):
    response = supervisor_client.get(URL, {"target": "password", "ordering": "ticket__subject"})

    assert response.status_code == 200
    assert "target" in response.context["board"].form.errors


def test_htmx_polling_gets_only_the_board(supervisor_client, board):
    response = supervisor_client.get(URL, headers={"HX-Request": "true"})
    page = response.content.decode()

    assert page.lstrip().startswith('<div id="overdue-board"')
    assert 'hx-trigger="every 30s"' in page
    assert "<html" not in page and "Late one" in page


def test_the_dashboard_costs_a_fixed_number_of_queries(supervisor_client, board, pool):
    params = {"pool": pool.pk, "ordering": "-due"}
    with CaptureQueriesContext(connection) as few:
        supervisor_client.get(URL, params)
    for minutes in range(-40, 40):
        deadline(TicketFactory(pool=PoolFactory(), subject=f"Bulk {minutes}"), minutes=minutes)
    with CaptureQueriesContext(connection) as many:
        response = supervisor_client.get(URL, params)

    assert response.status_code == 200
    assert len(few) == len(many) <= DASHBOARD_QUERIES


def test_the_nav_links_the_dashboard_for_supervisors_only(supervisor, agent):
    queue = reverse("tickets:queue")
    supervisor_client, agent_client = Client(), Client()
    supervisor_client.force_login(supervisor)
    agent_client.force_login(agent)

    assert 'id="nav-overdue"' in supervisor_client.get(queue).content.decode()
    assert 'id="nav-overdue"' not in agent_client.get(queue).content.decode()
