"""A bulk close asks each ticket's pool for its disposition form, as a close alone does."""

from django.contrib.messages import get_messages
from django.urls import reverse

from tests.factories import PoolFactory
from tickets import services
from tickets.models import PoolMembership
from tickets.services import portal
from tickets.states import Status


def test_bulk_resolve_refuses_tickets_whose_pool_requires_the_disposition(
    agent_client, agent, pool, customer, survey_settings
):
    relaxed = PoolFactory(name="Relaxed")
    PoolMembership.objects.create(pool=relaxed, user=agent)
    tickets = []
    for target in (pool, relaxed):
        ticket = portal.open_ticket_from_portal(
            contact=customer, actor=None, subject="Help", description="x", pool=target
        )
        tickets.append(services.assign_ticket(ticket, agent=agent, actor=agent))
    guarded, free = tickets
    response = agent_client.post(
        reverse("tickets:bulk"),
        {"ticket": [guarded.pk, free.pk], "action": "status", "status": Status.RESOLVED},
    )
    guarded.refresh_from_db()
    free.refresh_from_db()
    assert free.status == Status.RESOLVED
    assert guarded.status == Status.TAKEN
    texts = [str(message) for message in get_messages(response.wsgi_request)]
    assert "1 ticket changed." in texts
    assert any(guarded.number in t and "disposition form" in t for t in texts)
