"""The queue and ticket pages cost a fixed number of queries, whatever the size."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import MessageFactory, TicketFactory
from tickets import services
from tickets.models import CannedResponse, SavedView, Tag
from tickets.states import Status

# +2: the saved views and all their tab counts (one SELECT of subqueries).
QUEUE_QUERIES = 17
# +4: the panels other apps add (surveys: the pool's settings, a mailbox's own form;
# mailboxes: mail held on the ticket; whether the requester's address is suppressed).
# +3: the requester card (the contact's phones; their other tickets with both counts in
# one query; the surveys app's answer summary through contact_panels).
# +1: the tags on single messages (with their tag names, one query for the thread).
TICKET_PAGE_QUERIES = 25


def _count(client, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured)


def _fill_queue(pool, agent, n):
    tag = Tag.objects.get_or_create(name="vip")[0]
    for i in range(n):
        ticket = TicketFactory(
            pool=pool,
            status=Status.TAKEN if i % 2 else Status.NEW,
            assignee=agent if i % 2 else None,
        )
        ticket.tags.add(tag)


@pytest.mark.parametrize("tab", ["mine", "waiting", "watched"])
def test_queue_page_query_count_does_not_grow_with_rows(agent_client, agent, pool, tab):
    url = reverse("tickets:queue")
    _fill_queue(pool, agent, 3)
    few = _count(agent_client, url, {"tab": tab})
    _fill_queue(pool, agent, 60)
    many = _count(agent_client, url, {"tab": tab, "status": [Status.NEW, Status.TAKEN]})
    assert few == many <= QUEUE_QUERIES


def test_queue_query_count_does_not_grow_with_saved_views(agent_client, agent, pool):
    _fill_queue(pool, agent, 10)
    SavedView.objects.create(name="Waiting", owner=agent, query="tab=waiting")
    one = _count(agent_client, reverse("tickets:queue"))
    queries = ["tab=mine", "tab=watched", "tab=waiting&priority=40", "tag=vip&tab=waiting"]
    for index, query in enumerate(queries * 2):
        SavedView.objects.create(name=f"V{index}", owner=agent, query=query)
    assert _count(agent_client, reverse("tickets:queue")) == one <= QUEUE_QUERIES


def test_supervisor_all_tab_query_count_is_fixed(client, supervisor, agent, pool):
    client.force_login(supervisor)
    _fill_queue(pool, agent, 60)
    assert _count(client, reverse("tickets:queue"), {"tab": "all"}) <= QUEUE_QUERIES


def test_ticket_page_query_count_does_not_grow_with_the_thread(agent_client, agent, pool, customer):
    ticket = services.create_ticket(subject="Long thread", pool=pool, requester=customer)
    CannedResponse.objects.create(title="Hi", body="Hello {customer_name}")
    url = reverse("tickets:detail", args=[ticket.number])

    def grow(n):
        for i in range(n):
            message = MessageFactory(ticket=ticket)
            services.add_note(
                ticket,
                author=agent,
                body=f"note {i}",
                files=[SimpleUploadedFile(f"f{i}.txt", b"x")],
            )
            services.set_tags(ticket, names=[f"t{i}"], actor=agent)
            services.add_watcher(ticket, user=agent, actor=agent)
            assert message.pk

    grow(1)
    few = _count(agent_client, url)
    grow(25)
    many = _count(agent_client, url)
    assert few == many <= TICKET_PAGE_QUERIES


def test_ticket_page_query_count_does_not_grow_with_the_requesters_tickets(
    agent_client, pool, other_pool, customer
):
    from people.models import ContactPhone

    ticket = services.create_ticket(subject="Card", pool=pool, requester=customer)
    url = reverse("tickets:detail", args=[ticket.number])

    def grow(n):
        for i in range(n):
            TicketFactory(pool=pool, requester=customer, status=Status.NEW)
            TicketFactory(pool=other_pool, requester=customer, status=Status.CLOSED)
            ContactPhone.objects.create(contact=customer, number=f"+48 600 000 {i:03d}")

    grow(1)
    few = _count(agent_client, url)
    grow(30)
    many = _count(agent_client, url)
    assert few == many <= TICKET_PAGE_QUERIES
