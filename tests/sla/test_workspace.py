"""Agents see deadlines on their queue and ticket pages, and consult departments from there."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sla.models import Consultation
from tests.factories import TicketFactory
from tests.tickets.test_query_counts import QUEUE_QUERIES
from tickets import services
from tickets.models import Message
from tickets.states import Status


def test_the_queue_shows_time_left_and_overdue_without_extra_queries(agent_client, agent, pool):
    now = timezone.now()
    TicketFactory(pool=pool, assignee=agent, status=Status.TAKEN, subject="Late",
                  due_at=now - timedelta(hours=2))  # fmt: skip
    TicketFactory(pool=pool, assignee=agent, status=Status.TAKEN, subject="Later",
                  due_at=now + timedelta(hours=5))  # fmt: skip

    with CaptureQueriesContext(connection) as captured:
        page = agent_client.get(reverse("tickets:queue")).content.decode()

    assert len(captured) <= QUEUE_QUERIES
    assert "overdue" in page and "bi-exclamation-triangle-fill" in page
    assert "4\xa0hours" in page or "5\xa0hours" in page


def test_the_ticket_page_shows_the_deadline_or_the_pause(agent_client, agent, pool):
    due = TicketFactory(pool=pool, due_at=timezone.now() + timedelta(minutes=30))
    paused = TicketFactory(pool=pool, status=Status.WAITING_CUSTOMER)

    due_page = agent_client.get(due.get_absolute_url()).content.decode()
    paused_page = agent_client.get(paused.get_absolute_url()).content.decode()

    assert 'id="ticket-due"' in due_page and "bi-hourglass-split" in due_page
    assert "Paused while waiting for the customer" in paused_page
    assert reverse("sla:consult", args=[due.number]) in due_page


@pytest.fixture
def ticket(pool, customer):
    return services.create_ticket(subject="Contract", pool=pool, requester=customer)


def test_an_agent_consults_a_department_from_the_ticket(
    agent_client, agent, ticket, department, mailoutbox
):
    from mailboxes.models import OutgoingEmail

    response = agent_client.post(
        reverse("sla:consult", args=[ticket.number]),
        {"department": department.pk, "question": "Can we sign this?"},
    )

    assert response.status_code == 302
    consultation = Consultation.objects.get(ticket=ticket)
    assert (consultation.consultant, consultation.state) == (agent, "open")
    question = Message.objects.get(pk=consultation.question_id)
    assert question.kind == Message.Kind.CONSULTATION
    outgoing = OutgoingEmail.objects.get(ticket=ticket)
    assert outgoing.to == [department.email]
    assert question.message_id == outgoing.message_id
    ticket.refresh_from_db()
    assert ticket.status == Status.CONSULTATION
    page = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert "kind-consultation" in page and "Can we sign this?" in page


def test_asking_the_same_department_twice_is_refused_clearly(agent_client, ticket, department):
    url = reverse("sla:consult", args=[ticket.number])
    agent_client.post(url, {"department": department.pk, "question": "One"})

    response = agent_client.post(url, {"department": department.pk, "question": "Two"})

    assert response.status_code == 200
    assert "already has a question" in response.content.decode()
    assert Consultation.objects.count() == 1


def test_an_empty_question_is_refused(agent_client, ticket, department):
    response = agent_client.post(
        reverse("sla:consult", args=[ticket.number]), {"department": department.pk, "question": ""}
    )

    assert response.status_code == 200
    assert response.context["form"].errors["question"]
    assert not Consultation.objects.exists()


def test_a_ticket_of_another_pool_cannot_be_consulted_on(client, other_agent, ticket, department):
    client.force_login(other_agent)
    url = reverse("sla:consult", args=[ticket.number])

    assert client.get(url).status_code == 404
    assert client.post(url, {"department": department.pk, "question": "x"}).status_code == 404
    assert not Consultation.objects.exists()


def test_a_customer_reply_never_references_consultation_mail(
    agent, ticket, department, customer, django_capture_on_commit_callbacks
):
    from mailboxes.models import OutgoingEmail
    from sla.services import start_consultation

    services.add_customer_message(ticket, contact=customer, body_text="Hi", message_id="<c@x>")
    start_consultation(ticket, department=department, question="Internal?", actor=agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.add_reply(ticket, author=agent, body="We are checking.")

    reply = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.REPLY)
    question = OutgoingEmail.objects.get(to=[department.email])
    assert question.message_id not in reply.references
    assert reply.in_reply_to == "<c@x>"
