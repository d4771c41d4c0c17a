"""The workspace's routes: bulk actions, Take, saved views and the compact switch."""

import pytest
from django.urls import reverse

from tests.factories import TicketFactory
from tickets.models import SavedView
from tickets.states import Priority

ROUTES = [
    ("tickets:bulk", []),
    ("tickets:compact", []),
    ("tickets:save_view", []),
]


@pytest.mark.parametrize(("name", "args"), ROUTES)
def test_customers_and_visitors_cannot_use_the_workspace_routes(client, customer_user, name, args):
    url = reverse(name, args=args)
    anonymous = client.post(url)
    assert anonymous.status_code == 302
    assert "/accounts/login/" in anonymous["Location"]
    client.force_login(customer_user)
    assert client.post(url).status_code in (302, 403, 404)
    assert not SavedView.objects.exists()


def test_a_customer_cannot_bulk_change_tickets(client, customer_user, pool):
    ticket = TicketFactory(pool=pool)
    client.force_login(customer_user)
    client.post(
        reverse("tickets:bulk"),
        {"ticket": [ticket.pk], "action": "priority", "priority": Priority.URGENT},
    )
    ticket.refresh_from_db()
    assert ticket.priority == Priority.NORMAL


def test_bulk_ids_of_another_pool_change_nothing(agent_client, other_pool):
    tickets = [TicketFactory(pool=other_pool) for _ in range(3)]
    agent_client.post(
        reverse("tickets:bulk"),
        {"ticket": [t.pk for t in tickets], "action": "assign_me"},
    )
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.assignee is None


def test_bulk_redirects_only_to_this_site(agent_client, pool):
    ticket = TicketFactory(pool=pool)
    response = agent_client.post(
        reverse("tickets:bulk"),
        {"ticket": [ticket.pk], "action": "assign_me", "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("tickets:queue")


def test_take_is_post_only_and_scoped(agent_client, other_pool):
    ticket = TicketFactory(pool=other_pool)
    url = reverse("tickets:take", args=[ticket.number])
    assert agent_client.get(url).status_code == 405
    assert agent_client.post(url).status_code == 404


def test_an_agent_cannot_share_a_view_with_everyone(agent_client):
    agent_client.post(reverse("tickets:save_view"), {"name": "Mine", "shared": "on"})
    assert not SavedView.objects.get().shared
