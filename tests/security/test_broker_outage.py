"""With the broker down, a reply is saved once and sent later: never an error, never twice."""

import re
from contextlib import contextmanager

import pytest
from django.urls import reverse

from helpdesk.celery import app as celery_app
from mailboxes.models import OutgoingEmail
from mailboxes.tasks import send_due_outgoing_emails_task
from tests.mailboxes.smtp_sink import free_port
from tickets import services
from tickets.models import Message


@contextmanager
def broker_at(url):
    """Point our Celery app at ``url`` (a real address, here one nobody listens on)."""
    previous = celery_app.conf.broker_url
    celery_app.conf.broker_url = url
    celery_app._pool = None  # the connection pools are made from broker_url on first use
    celery_app.amqp._producer_pool = None
    try:
        yield
    finally:
        celery_app.conf.broker_url = previous
        celery_app._pool = None
        celery_app.amqp._producer_pool = None


@pytest.fixture
def ticket(pool, customer):
    ticket = services.create_ticket(subject="Printer", pool=pool, requester=customer)
    services.add_customer_message(ticket, contact=customer, body_text="It is on fire.")
    return ticket


def _form_key(page) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', page.text).group(1)


def test_a_reply_saved_while_the_broker_is_down_is_sent_once_by_the_sweep(
    agent_client, ticket, mailoutbox, django_capture_on_commit_callbacks, caplog
):
    key = _form_key(agent_client.get(ticket.get_absolute_url()))
    url = reverse("tickets:reply", args=[ticket.number])
    form = {"body": "Try turning it off.", "idempotency_key": key}

    with broker_at(f"redis://127.0.0.1:{free_port()}/0"):
        with django_capture_on_commit_callbacks(execute=True):
            first = agent_client.post(url, form)
        with django_capture_on_commit_callbacks(execute=True):
            again = agent_client.post(url, form)  # the agent's natural retry

    assert first.status_code == again.status_code == 302
    page = agent_client.get(first.url)
    assert "Your reply was saved and will be sent shortly." in page.text
    assert "celery.enqueue_failed" in caplog.text
    reply = Message.objects.get(ticket=ticket, kind=Message.Kind.OUTBOUND)
    outgoing = OutgoingEmail.objects.get(ticket_message=reply)
    assert outgoing.state == OutgoingEmail.State.QUEUED
    assert outgoing.enqueued_at is None  # marked for the sweep, not waiting for a lost job
    assert mailoutbox == []

    # The broker is back: the minute sweep enqueues it, a worker sends it (eagerly here).
    celery_app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            send_due_outgoing_emails_task.delay()
    finally:
        celery_app.conf.task_always_eager = False
    outgoing.refresh_from_db()
    assert outgoing.state == OutgoingEmail.State.SENT
    assert [mail.body for mail in mailoutbox] == ["Try turning it off.\n"]


def test_a_resubmitted_reply_form_does_not_make_a_second_reply(agent_client, ticket):
    key = _form_key(agent_client.get(ticket.get_absolute_url()))
    url = reverse("tickets:reply", args=[ticket.number])
    for _ in range(2):
        response = agent_client.post(url, {"body": "Once only.", "idempotency_key": key})
        assert response.status_code == 302
    fresh = _form_key(agent_client.get(ticket.get_absolute_url()))
    agent_client.post(url, {"body": "Once only.", "idempotency_key": fresh})

    assert fresh != key
    bodies = Message.objects.filter(ticket=ticket, kind=Message.Kind.OUTBOUND)
    assert list(bodies.values_list("body_text", flat=True)) == ["Once only."] * 2
