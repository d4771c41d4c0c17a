"""Access on the inbox's routes: quick replies, stars, message tags, contact merge."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import ContactFactory, TicketFactory
from tickets.models import CannedResponse, Message, MessageTag, TicketStar
from tickets.services import add_customer_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def foreign_ticket(other_pool):
    """A ticket of a pool the agent is not in."""
    ticket = TicketFactory(pool=other_pool)
    add_customer_message(ticket, contact=ticket.requester, body_text="secret")
    return ticket


def test_quick_replies_of_a_ticket_outside_my_pools_are_not_found(
    agent_client, foreign_ticket, other_pool
):
    CannedResponse.objects.create(title="Other pool", body="x", pool=other_pool)
    url = reverse("tickets:quick_replies", args=[foreign_ticket.number])

    assert agent_client.get(url, {"q": "other"}).status_code == 404


def test_a_ticket_outside_my_pools_cannot_be_starred(agent_client, foreign_ticket):
    url = reverse("tickets:star", args=[foreign_ticket.number])

    assert agent_client.post(url).status_code == 404
    assert not TicketStar.objects.exists()


def test_messages_outside_my_pools_cannot_be_tagged_or_untagged(agent_client, foreign_ticket):
    message = Message.objects.get(ticket=foreign_ticket)
    add = reverse("tickets:message_tag_add", args=[foreign_ticket.number, message.pk])
    remove = reverse("tickets:message_tag_remove", args=[foreign_ticket.number, message.pk, 1])

    assert agent_client.post(add, {"name": "x"}).status_code == 404
    assert agent_client.post(remove).status_code == 404
    assert not MessageTag.objects.exists()


@pytest.mark.parametrize("name", ["star", "message_tag_add"])
def test_star_and_tags_take_no_get(agent_client, pool, name):
    ticket = TicketFactory(pool=pool)
    add_customer_message(ticket, contact=ticket.requester, body_text="hi")
    args = [ticket.number] if name == "star" else [ticket.number, ticket.messages.get().pk]

    assert agent_client.get(reverse(f"tickets:{name}", args=args)).status_code == 405


def test_customers_and_anonymous_users_reach_none_of_the_inbox_routes(customer_client, pool):
    anonymous = Client()
    ticket = TicketFactory(pool=pool)
    contact = ContactFactory()
    urls = [
        reverse("tickets:quick_replies", args=[ticket.number]),
        reverse("tickets:contact_merge", args=[contact.pk]),
    ]
    for url in urls:
        assert anonymous.get(url).status_code == 302  # to the sign-in page
        assert customer_client.get(url).status_code in (302, 403, 404)
    star = reverse("tickets:star", args=[ticket.number])
    assert customer_client.post(star).status_code in (302, 403, 404)
    assert not TicketStar.objects.exists()


def test_agents_may_not_merge_contacts(agent_client, customer, other_customer):
    pick = reverse("tickets:contact_merge", args=[customer.pk])
    confirm = reverse("tickets:contact_merge_confirm", args=[customer.pk, other_customer.pk])

    assert agent_client.get(pick).status_code == 403
    assert agent_client.post(confirm).status_code == 403
    assert other_customer.__class__.objects.get(pk=other_customer.pk).merged_into is None
    page = agent_client.get(reverse("tickets:contact", args=[customer.pk])).content.decode()
    assert 'id="merge-contact"' not in page


def test_supervisors_and_admins_may_merge_contacts(client, supervisor, admin_user, customer):
    for user in (supervisor, admin_user):
        client.force_login(user)
        page = client.get(reverse("tickets:contact", args=[customer.pk])).content.decode()
        assert 'id="merge-contact"' in page
        assert client.get(reverse("tickets:contact_merge", args=[customer.pk])).status_code == 200
