"""Quick replies: "/" and a few letters in the composer list the canned responses the agent
may use on this ticket, with their placeholders filled in."""

import pytest
from django.urls import reverse

from tests.conftest import _agent
from tests.factories import TicketFactory
from tickets.models import CannedResponse

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(pool, customer):
    return TicketFactory(pool=pool, requester=customer, subject="Invoice twice")


def _search(client, ticket, query):
    response = client.get(reverse("tickets:quick_replies", args=[ticket.number]), {"q": query})
    assert response.status_code == 200
    return response.json()["results"]


def test_typing_letters_finds_matching_responses_with_placeholders_filled(
    agent_client, agent, ticket
):
    CannedResponse.objects.create(
        title="Refund done",
        body="Hello {customer_name}, ticket {ticket_number} ({subject}) is refunded. {agent_name}",
    )
    CannedResponse.objects.create(title="Password reset", body="Use the link.")

    found = _search(agent_client, ticket, "ref")

    assert [item["title"] for item in found] == ["Refund done"]
    assert found[0]["text"] == (
        f"Hello Carla Cliente, ticket {ticket.number} (Invoice twice) is refunded. Agent"
    )


def test_titles_that_match_come_before_texts_that_mention_the_words(agent_client, ticket):
    CannedResponse.objects.create(title="Closing", body="We refund within 5 days.")
    CannedResponse.objects.create(title="Refund policy", body="See the terms.")

    found = _search(agent_client, ticket, "refund")

    assert [item["title"] for item in found] == ["Refund policy", "Closing"]


def test_only_my_own_my_pools_and_global_responses_are_offered(
    agent_client, agent, pool, other_pool, ticket
):
    colleague = _agent("colleague", pools=[pool])
    CannedResponse.objects.create(title="Reply mine", body="x", owner=agent)
    CannedResponse.objects.create(title="Reply pool", body="x", pool=pool)
    CannedResponse.objects.create(title="Reply everyone", body="x")
    CannedResponse.objects.create(title="Reply other pool", body="x", pool=other_pool)
    CannedResponse.objects.create(title="Reply colleague", body="x", owner=colleague)

    found = _search(agent_client, ticket, "reply")

    assert sorted(item["title"] for item in found) == ["Reply everyone", "Reply mine", "Reply pool"]


def test_a_quick_reply_with_files_says_so_and_its_files_go_with_the_reply(
    agent_client, agent, ticket, django_capture_on_commit_callbacks
):
    canned = CannedResponse.objects.create(title="Manual", body="Attached.")
    canned.files.create(filename="manual.pdf", file="canned/manual.pdf")

    found = _search(agent_client, ticket, "man")

    assert found == [{"id": canned.pk, "title": "Manual", "text": "Attached.", "files": True}]


def test_the_reply_box_carries_the_quick_reply_address(agent_client, ticket):
    page = agent_client.get(ticket.get_absolute_url()).content.decode()

    url = reverse("tickets:quick_replies", args=[ticket.number])
    assert f'data-quick-replies="{url}"' in page
    assert "js/composer.js" in page
    assert "data-max-bytes=" in page
