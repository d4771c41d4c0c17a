"""A customer at a glance never shows an agent the tickets of pools they are not in (issue 13).

Contacts are the helpdesk's customers: every agent may find them and open tickets for them.
Their tickets are not: the contact page, the requester card, the autocomplete's counts and
the survey answers list and count only tickets ``visible_to`` the agent; customers and
anonymous visitors reach none of these routes.
"""

import pytest
from django.urls import reverse

from surveys.models import Questionnaire, Response
from tests.factories import TicketFactory
from tickets.models import Ticket
from tickets.states import Channel, Status


@pytest.fixture
def secret(other_pool, customer):
    """A ticket of the customer in a pool the agent is not in."""
    return TicketFactory(
        pool=other_pool, requester=customer, subject="Hush-hush merger", status=Status.NEW
    )


@pytest.fixture
def mine(pool, customer):
    return TicketFactory(pool=pool, requester=customer, subject="Router", status=Status.NEW)


def test_the_contact_page_hides_and_does_not_count_other_pools_tickets(
    agent_client, customer, secret, mine
):
    page = agent_client.get(reverse("tickets:contact", args=[customer.pk])).content.decode()
    assert mine.number in page
    assert secret.number not in page and "Hush-hush" not in page
    assert "1 open" in page and "1 in all" in page
    assert "2 open" not in page and "2 in all" not in page


def test_the_requester_card_hides_and_does_not_count_other_pools_tickets(
    agent_client, pool, customer, secret, mine
):
    third = TicketFactory(pool=pool, requester=customer, status=Status.NEW)
    page = agent_client.get(third.get_absolute_url()).content.decode()
    card = page[page.index('id="requester-card"') :]
    assert mine.number in card
    assert secret.number not in page and "Hush-hush" not in page
    assert "1 open" in card and "1 in all" in card


def test_the_autocomplete_does_not_count_other_pools_tickets(agent_client, customer, secret):
    page = agent_client.get(reverse("tickets:contact_search"), {"q": "Carla"}).content.decode()
    assert "Carla Cliente" in page
    assert "open" not in page  # no open ticket of theirs in the agent's pools
    assert secret.number not in page


def test_the_autocomplete_finds_contacts_not_tickets(agent_client, secret):
    page = agent_client.get(reverse("tickets:contact_search"), {"q": "Hush-hush"}).content.decode()
    assert "Carla Cliente" not in page
    assert "Hush-hush" not in page


def test_a_supervisor_sees_every_pools_tickets_of_the_contact(
    client, supervisor, customer, secret, mine
):
    client.force_login(supervisor)
    page = client.get(reverse("tickets:contact", args=[customer.pk])).content.decode()
    assert secret.number in page and mine.number in page
    assert "2 in all" in page


def _answered(ticket, customer):
    questionnaire = Questionnaire.objects.create(name="CSAT", kind=Questionnaire.Kind.SATISFACTION)
    return Response.objects.create(
        questionnaire=questionnaire,
        kind=Questionnaire.Kind.SATISFACTION,
        ticket=ticket,
        pool=ticket.pool,
        contact=customer,
    )


def test_survey_answers_on_other_pools_tickets_stay_hidden(agent_client, customer, secret, mine):
    _answered(secret, customer)
    contact_page = agent_client.get(reverse("tickets:contact", args=[customer.pk]))
    assert secret.number not in contact_page.content.decode()
    assert "No survey answered on tickets of your pools." in contact_page.content.decode()
    ticket_page = agent_client.get(mine.get_absolute_url()).content.decode()
    assert "satisfaction survey" not in ticket_page


def test_survey_answers_on_the_agents_pools_show(agent_client, customer, mine):
    _answered(mine, customer)
    contact_page = agent_client.get(reverse("tickets:contact", args=[customer.pk]))
    assert f"{mine.tag_label}" in contact_page.content.decode()
    other = TicketFactory(pool=mine.pool, requester=customer)
    assert (
        "Answered 1 satisfaction survey"
        in agent_client.get(other.get_absolute_url()).content.decode()
    )


@pytest.mark.parametrize("name", ["tickets:new", "tickets:contact_search", "tickets:contact"])
def test_a_customer_cannot_reach_the_agents_customer_routes(customer_client, customer, name):
    args = [customer.pk] if name == "tickets:contact" else []
    assert customer_client.get(reverse(name, args=args), {"q": "Carla"}).status_code == 404


def test_a_customer_cannot_open_a_ticket_through_the_agents_form(customer_client, customer, pool):
    response = customer_client.post(
        reverse("tickets:new"),
        {
            "requester": customer.pk,
            "channel": Channel.PHONE,
            "subject": "x",
            "description": "y",
            "pool": pool.pk,
        },
    )
    assert response.status_code == 404
    assert not Ticket.objects.exists()


@pytest.mark.parametrize("name", ["tickets:new", "tickets:contact_search", "tickets:contact"])
def test_anonymous_visitors_are_sent_to_sign_in(client, customer, name):
    args = [customer.pk] if name == "tickets:contact" else []
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert "login" in response.url


def test_an_agent_cannot_open_a_ticket_in_another_pool_through_the_form(
    agent_client, customer, other_pool
):
    response = agent_client.post(
        reverse("tickets:new"),
        {
            "requester": customer.pk,
            "channel": Channel.PHONE,
            "subject": "x",
            "description": "y",
            "pool": other_pool.pk,
        },
    )
    assert response.status_code == 400
    assert not Ticket.objects.exists()


def test_an_agent_cannot_give_the_ticket_to_a_technician_outside_the_pool(
    agent_client, customer, pool, other_agent
):
    response = agent_client.post(
        reverse("tickets:new"),
        {
            "requester": customer.pk,
            "channel": Channel.PHONE,
            "subject": "x",
            "description": "y",
            "pool": pool.pk,
            "assignee": other_agent.pk,
        },
    )
    assert response.status_code == 400
    assert not Ticket.objects.exists()
