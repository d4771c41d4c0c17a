"""The pages that follow live events: the stream script for agents only, the refresh
attributes, and the ticket page's small refresh response."""

import pytest

from tickets.services import add_customer_message, create_ticket

pytestmark = pytest.mark.django_db


def test_agent_pages_open_the_stream_and_customer_pages_do_not(agent_client, client, customer_user):
    page = agent_client.get("/tickets/").content.decode()
    assert 'src="/static/js/live.js" data-live-url="/live/stream/"' in page
    assert "live:ticket.created from:document" in page
    client.force_login(customer_user)
    assert "live.js" not in client.get("/portal/").content.decode()


def test_the_ticket_page_follows_its_own_topic(agent_client, pool, customer):
    ticket = create_ticket(subject="Printer", pool=pool, requester=customer)
    page = agent_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert f'data-live-params="ticket={ticket.number}"' in page
    assert f'data-live-topic="ticket:{ticket.number}"' in page


def test_a_live_refresh_of_the_ticket_page_sends_its_thread_and_status_only(
    agent_client, pool, customer, django_assert_max_num_queries
):
    ticket = create_ticket(subject="Printer", pool=pool, requester=customer)
    for number in range(3):
        add_customer_message(ticket, contact=customer, body_text=f"Message {number}")
    # 16: the ticket page's own loading (the requester card's phones are prefetched with it;
    # the messages' tags are one query).
    with django_assert_max_num_queries(16):
        response = agent_client.get(
            f"/tickets/{ticket.number}/", headers={"HX-Request": "true", "HX-Target": "thread"}
        )
    html = response.content.decode()
    assert html.count('class="card mb-2 thread-message') == 3
    assert 'id="ticket-status"' in html
    assert 'id="reply-form"' not in html
