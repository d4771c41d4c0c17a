"""Customers see when we aim to resolve their ticket on the portal, never internal targets."""

from django.urls import reverse

from sla.models import Deadline, Target
from sla.services.clocks import apply_policies
from tests.factories import TicketFactory
from tests.portal.test_portal import PORTAL_LIST_QUERIES, PORTAL_TICKET_QUERIES
from tickets.states import Status


def _page(client, ticket):
    return client.get(reverse("portal:detail", args=[ticket.number])).content.decode()


def test_the_customer_sees_the_resolution_deadline_of_an_open_ticket(
    customer_client, customer, pool, policy, django_assert_max_num_queries
):
    ticket = TicketFactory(pool=pool, requester=customer, status=Status.IN_PROGRESS)
    apply_policies([ticket.pk])
    resolution = Deadline.objects.get(ticket=ticket, target=Target.RESOLUTION)

    with django_assert_max_num_queries(PORTAL_TICKET_QUERIES):
        page = _page(customer_client, ticket)

    assert 'id="panel-deadline"' in page
    assert "We aim to resolve it by" in page
    assert f"{resolution.due_at.astimezone().year}" in page
    assert "First response" not in page


def test_the_deadline_panel_says_the_clock_waits_for_the_customer(
    customer_client, customer, pool, policy
):
    ticket = TicketFactory(pool=pool, requester=customer, status=Status.IN_PROGRESS)
    apply_policies([ticket.pk])
    Deadline.objects.filter(ticket=ticket).update(state=Deadline.State.PAUSED, due_at=None)
    ticket.status = Status.WAITING_CUSTOMER
    ticket.save(update_fields=["status"])

    page = _page(customer_client, ticket)

    assert "The clock is paused while we wait for your reply." in page


def test_finished_tickets_and_tickets_without_a_policy_show_no_deadline(
    customer_client, customer, pool
):
    closed = TicketFactory(pool=pool, requester=customer, status=Status.CLOSED)
    open_without_policy = TicketFactory(pool=pool, requester=customer, status=Status.NEW)

    assert 'id="panel-deadline"' not in _page(customer_client, closed)
    assert 'id="panel-deadline"' not in _page(customer_client, open_without_policy)


def test_the_ticket_list_shows_when_an_answer_is_expected_without_extra_queries(
    customer_client, customer, pool, policy, django_assert_max_num_queries
):
    running = TicketFactory(pool=pool, requester=customer, status=Status.NEW, subject="Running")
    apply_policies([running.pk])
    running.refresh_from_db()
    TicketFactory(pool=pool, requester=customer, status=Status.WAITING_CUSTOMER, subject="Paused")

    with django_assert_max_num_queries(PORTAL_LIST_QUERIES):
        page = customer_client.get(reverse("portal:home")).content.decode()

    assert running.due_at is not None
    assert "Answer expected by" in page
    assert "Waiting for your reply" in page
