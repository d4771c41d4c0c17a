"""Reports show nobody a pool they are not in: not in figures, rows, exports or drill-downs."""

import re

import pytest
from django.urls import reverse

from reports.services import refresh_facts
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tickets(pool, other_pool, agent, other_agent):
    """Two tickets of the agent's and one nobody took in their pool; three of another agent's
    in another pool."""
    mine = TicketFactory.create_batch(2, pool=pool, assignee=agent)
    waiting = TicketFactory(pool=pool)
    theirs = TicketFactory.create_batch(3, pool=other_pool, assignee=other_agent)
    refresh_facts([ticket.pk for ticket in [*mine, waiting, *theirs]])
    return mine, theirs


def received(html: str) -> int:
    found = re.search(r'id="figure-received".*?data-value><a [^>]*>(\d+)</a>', html, re.S)
    assert found, html[:300]
    return int(found.group(1))


def test_anonymous_users_are_sent_to_sign_in(client):
    response = client.get(reverse("reports:dashboard"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("page", ["reports:dashboard", "reports:breakdown", "reports:period"])
def test_customers_get_not_found(client, customer_user, page):
    client.force_login(customer_user)
    assert client.get(reverse(page)).status_code == 404


def test_a_supervisor_counts_every_pool(client, supervisor, tickets):
    client.force_login(supervisor)
    assert received(client.get(reverse("reports:dashboard")).content.decode()) == 6


def test_an_agent_counts_only_their_own_tickets_whatever_they_ask(
    client, agent, other_agent, other_pool, tickets
):
    client.force_login(agent)
    url = reverse("reports:dashboard")
    assert received(client.get(url).content.decode()) == 2
    assert received(client.get(url, {"assignee": other_agent.pk}).content.decode()) == 2
    # A pool they are not in is refused by the filter (and ignored, as the queue does).
    response = client.get(url, {"pool": other_pool.pk})
    assert received(response.content.decode()) == 2
    assert "pool" in response.context["scope"].filter.form.errors


def test_an_agents_breakdowns_and_exports_hold_only_their_row(
    client, agent, other_agent, other_pool, tickets
):
    client.force_login(agent)
    html = client.get(reverse("reports:breakdown"), {"by": "agent"}).content.decode()
    assert "agent" in html and other_agent.username not in html
    html = client.get(reverse("reports:breakdown"), {"by": "pool"}).content.decode()
    assert other_pool.name not in html
    csv = client.get(reverse("reports:breakdown"), {"by": "pool", "export": "csv"}).content
    assert other_pool.name.encode() not in csv
    assert csv.decode().splitlines()[-1].startswith("Total,2,")
    period = client.get(reverse("reports:period"))
    assert period.context["table"] is None  # no per-agent table for an agent


def test_a_drilldown_lists_only_what_the_user_may_see(client, agent, other_agent, tickets):
    client.force_login(agent)
    html = client.get(reverse("reports:dashboard")).content.decode()
    href = re.search(r'id="figure-received".*?data-value><a href="([^"]+)"', html, re.S).group(1)
    href = href.replace("&amp;", "&")
    response = client.get(href)
    assert {ticket.pk for ticket in response.context["tickets"]} == {t.pk for t in tickets[0]}
    # With the other agent's id instead of theirs, the queue refuses that technician (not in
    # the agent's pools) and still lists only tickets of the agent's pools.
    response = client.get(re.sub(r"assignee=\d+", f"assignee={other_agent.pk}", href))
    listed = list(response.context["tickets"])
    assert listed
    assert {ticket.pool_id for ticket in listed} == {tickets[0][0].pool_id}


@pytest.mark.parametrize(
    "value",
    [
        "assignee__password__startswith:2026-01-01:2026-12-31",
        "received:2026-12-31:2026-01-01",
        "received",
        "first_response_average:2026-01-01:2026-12-31",
    ],
)
def test_a_drilldown_that_is_not_a_known_count_matches_nothing(client, supervisor, tickets, value):
    client.force_login(supervisor)
    response = client.get(reverse("tickets:queue"), {"tab": "all", "report": value})
    assert response.status_code == 200
    assert list(response.context["tickets"]) == []


def test_a_breakdown_by_an_unknown_dimension_is_not_found(client, supervisor):
    client.force_login(supervisor)
    response = client.get(reverse("reports:breakdown"), {"by": "assignee__password"})
    assert response.status_code == 404
