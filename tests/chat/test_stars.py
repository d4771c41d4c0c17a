"""Starred conversations: an agent's own star on a ticket, toggled from the queue row and
the ticket page, with a Starred tab in the queue."""

import pytest
from django.urls import reverse

from tests.conftest import _agent
from tests.factories import TicketFactory
from tickets.models import TicketStar

pytestmark = pytest.mark.django_db


def test_a_star_toggles_on_and_off_and_is_the_agents_own(agent_client, agent, pool):
    ticket = TicketFactory(pool=pool)
    colleague = _agent("colleague", pools=[pool])
    url = reverse("tickets:star", args=[ticket.number])

    response = agent_client.post(url, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "bi-star-fill" in response.content.decode()
    assert TicketStar.objects.filter(ticket=ticket, user=agent).exists()
    assert not TicketStar.objects.filter(user=colleague).exists()

    response = agent_client.post(url, HTTP_HX_REQUEST="true")

    assert "bi-star-fill" not in response.content.decode()
    assert not TicketStar.objects.exists()


def test_without_htmx_the_star_goes_back_to_the_page_it_came_from(agent_client, pool):
    ticket = TicketFactory(pool=pool)
    url = reverse("tickets:star", args=[ticket.number])

    response = agent_client.post(url, {"next": "/tickets/?tab=starred"})
    assert response.status_code == 302
    assert response["Location"] == "/tickets/?tab=starred"

    response = agent_client.post(url, {"next": "https://evil.example/"})
    assert response["Location"] == ticket.get_absolute_url()


def test_the_starred_tab_lists_only_my_starred_tickets(agent_client, agent, pool):
    starred, _plain, theirs = (TicketFactory(pool=pool, subject=s) for s in ("Aaa", "Bbb", "Ccc"))
    colleague = _agent("colleague", pools=[pool])
    TicketStar.objects.create(ticket=starred, user=agent)
    TicketStar.objects.create(ticket=theirs, user=colleague)

    response = agent_client.get(reverse("tickets:queue"), {"tab": "starred"})

    assert [t.pk for t in response.context["tickets"]] == [starred.pk]
    assert response.context["tickets"][0].is_starred
    assert "?tab=starred" in response.content.decode()


def test_the_queue_row_and_the_ticket_page_show_the_star(agent_client, agent, pool):
    ticket = TicketFactory(pool=pool)
    TicketStar.objects.create(ticket=ticket, user=agent)

    queue = agent_client.get(reverse("tickets:queue"), {"tab": "starred"}).content.decode()
    page = agent_client.get(ticket.get_absolute_url()).content.decode()

    assert 'aria-pressed="true"' in page
    assert page.count("bi-star-fill") == 1
    assert reverse("tickets:star", args=[ticket.number]) in queue
