"""CSRF, no state change on GET, safe redirects and login throttling."""

from django.test import Client
from django.urls import reverse

from tests.factories import TicketFactory
from tickets.states import Status


def test_state_changes_need_a_csrf_token(agent, pool):
    ticket = TicketFactory(pool=pool)
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    response = client.post(reverse("tickets:status", args=[ticket.number]), {"status": "closed"})
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW


def test_next_ticket_and_actions_refuse_get(agent_client, pool):
    ticket = TicketFactory(pool=pool)
    assert agent_client.get(reverse("tickets:next")).status_code == 405
    assert agent_client.get(reverse("tickets:status", args=[ticket.number])).status_code == 405
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_login_redirects_only_to_this_host(client, agent):
    response = client.post(
        reverse("login") + "?next=https://evil.test/",
        {"username": "agent", "password": "secret-pass-123", "next": "https://evil.test/"},
    )
    assert response.status_code == 302
    assert "evil.test" not in response["Location"]
