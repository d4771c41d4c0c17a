"""The Take button: an unassigned ticket becomes mine through the assign service."""

from django.contrib.messages import get_messages
from django.urls import reverse

from tests.conftest import _agent
from tests.factories import TicketFactory
from tickets.models import ActivityLog
from tickets.states import Status


def test_take_assigns_an_unassigned_ticket_to_me(agent_client, agent, pool):
    ticket = TicketFactory(pool=pool)
    response = agent_client.post(reverse("tickets:take", args=[ticket.number]))
    ticket.refresh_from_db()
    assert response.status_code == 302
    assert ticket.assignee == agent
    assert ticket.status == Status.TAKEN
    assert ActivityLog.objects.filter(ticket=ticket, action=ActivityLog.Action.ASSIGNED).exists()


def test_take_refuses_a_ticket_someone_else_has(agent_client, agent, pool):
    colleague = _agent("colleague", pools=[pool])
    ticket = TicketFactory(pool=pool, assignee=colleague, status=Status.TAKEN)
    response = agent_client.post(reverse("tickets:take", args=[ticket.number]))
    ticket.refresh_from_db()
    assert ticket.assignee == colleague
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("Colleague has already taken" in text for text in texts)


def test_take_of_another_pools_ticket_is_not_found(agent_client, other_pool):
    ticket = TicketFactory(pool=other_pool)
    response = agent_client.post(reverse("tickets:take", args=[ticket.number]))
    assert response.status_code == 404
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_take_buttons_show_on_unassigned_rows_and_the_ticket_page(agent_client, agent, pool):
    free = TicketFactory(pool=pool)
    TicketFactory(pool=pool, assignee=agent, status=Status.TAKEN)
    queue = agent_client.get(reverse("tickets:queue"), {"tab": "all", "report": "x"})
    page = agent_client.get(reverse("tickets:queue"), {"tab": "waiting"}).content.decode()
    assert page.count("take-button") == 1
    assert queue.status_code == 200
    detail = agent_client.get(free.get_absolute_url()).content.decode()
    assert 'id="take-ticket"' in detail


def test_compact_mode_is_remembered_per_user(agent_client, agent):
    assert "queue-compact" not in agent_client.get(reverse("tickets:queue")).content.decode()
    agent_client.post(reverse("tickets:compact"))
    agent.agent_profile.refresh_from_db()
    assert agent.agent_profile.compact_queue
    assert "queue-compact" in agent_client.get(reverse("tickets:queue")).content.decode()
