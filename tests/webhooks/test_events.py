"""The domain events become deliveries: every kind, set-based, through the real services."""

import json
from datetime import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sla.services import sweep_deadlines
from tests.factories import ContactFactory, PoolFactory
from tests.sla.test_sweep import SP
from tickets import services
from tickets.services.intake import CustomerMail, receive_customer_messages
from tickets.states import Status
from webhooks.events import BY_NAME, REGISTRY
from webhooks.models import Delivery

ALL = [event.name for event in REGISTRY]


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call a service and then, as after a real commit, its events (and their receivers)."""

    def call(service, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return service(*args, **kwargs)

    return call


def _bodies(event):
    return [json.loads(d.body) for d in Delivery.objects.filter(event=event).order_by("pk")]


def _mails(pool, count, prefix="Help"):
    return [
        CustomerMail(contact=ContactFactory(), subject=f"{prefix} {n}", body_text="x", pool=pool)
        for n in range(count)
    ]


def test_the_registry_names_each_event_once_and_every_one_has_a_label():
    assert len(BY_NAME) == len(REGISTRY)
    assert {"ticket.created", "message.customer", "message.reply", "message.note"} <= set(BY_NAME)
    assert {"ticket.status_changed", "ticket.assigned", "sla.warning", "sla.breached"} <= set(
        BY_NAME
    )
    assert "survey.answered" in BY_NAME
    assert all(str(event.label) for event in REGISTRY)


def test_a_batch_of_intake_becomes_deliveries_for_the_pool_s_endpoints(
    run, receiver, make_endpoint, pool
):
    make_endpoint(receiver, pools=[pool], events=["ticket.created", "message.customer"])
    run(receive_customer_messages, _mails(pool, 5))

    created = _bodies("ticket.created")
    assert len(created) == 5
    assert {body["data"]["ticket"]["subject"] for body in created} == {
        f"Help {n}" for n in range(5)
    }
    messages = _bodies("message.customer")
    assert len(messages) == 5
    assert all(body["data"]["message"]["kind"] == "inbound" for body in messages)
    assert len({body["id"] for body in created + messages}) == 10, "one event id each"


def test_the_events_of_a_batch_cost_the_same_queries_for_5_or_50_tickets(
    run, receiver, make_endpoint, pool, django_capture_on_commit_callbacks
):
    make_endpoint(receiver, pools=[pool], events=ALL)

    def queries_of_the_receivers(count):
        with django_capture_on_commit_callbacks() as callbacks:
            receive_customer_messages(_mails(pool, count))
        with CaptureQueriesContext(connection) as queries:
            for callback in callbacks:
                callback()
        return len(queries)

    small, large = queries_of_the_receivers(5), queries_of_the_receivers(50)
    assert Delivery.objects.filter(event="ticket.created").count() == 55
    # The other receivers (SLA, notifications, reports) are set-based too; webhooks add a
    # fixed handful per event kind, never one per ticket.
    assert large <= small + 4, (small, large)


def test_an_installation_without_webhooks_pays_one_query_per_event(run, pool):
    with CaptureQueriesContext(connection) as before:
        run(receive_customer_messages, _mails(pool, 3))
    assert not Delivery.objects.exists()
    ours = [q["sql"] for q in before.captured_queries if "webhooks_" in q["sql"]]
    assert ours and all("webhooks_endpoint_pools" in sql for sql in ours), "only the lookup"
    assert len(ours) <= len(REGISTRY), "at most one per event kind of the batch, not per ticket"


def test_status_assignment_note_reply_and_field_changes_are_events(
    run, receiver, make_endpoint, pool, agent, customer
):
    make_endpoint(receiver, pools=[pool], events=ALL)
    ticket = run(services.create_ticket, subject="Printer", pool=pool, requester=customer)
    ticket = run(services.assign_ticket, ticket, agent=agent, actor=agent)
    ticket = run(services.change_status, ticket, to=Status.IN_PROGRESS, actor=agent)
    run(services.add_note, ticket, author=agent, body="Checked the cable.")
    run(services.add_reply, ticket, author=agent, body="Fixed it.")
    run(services.update_ticket, ticket, actor=agent, priority=30)

    [assigned] = _bodies("ticket.assigned")
    assert assigned["data"]["after"] == agent.pk
    assert assigned["data"]["ticket"]["assignee"]["id"] == agent.pk
    statuses = [(b["data"]["before"], b["data"]["after"]) for b in _bodies("ticket.status_changed")]
    assert ("taken", "in_progress") in statuses
    [note] = _bodies("message.note")
    assert note["data"]["message"]["body_text"] == "Checked the cable."
    [reply] = _bodies("message.reply")
    assert reply["data"]["message"]["body_text"] == "Fixed it."
    assert _bodies("message.customer") == [], "an agent's reply is not a customer message"
    [updated] = _bodies("ticket.updated")
    assert (updated["data"]["field"], updated["data"]["after"]) == ("priority", "30")


def test_a_junior_reply_is_an_event_only_once_it_may_leave(
    run, receiver, make_endpoint, pool, junior, supervisor, customer
):
    from tickets.services import approve_reply

    make_endpoint(receiver, pools=[pool], events=["message.reply"])
    ticket = run(services.create_ticket, subject="Printer", pool=pool, requester=customer)
    message = run(services.add_reply, ticket, author=junior, body="Draft answer.")
    assert not Delivery.objects.exists(), "held for approval: nothing leaves"
    run(approve_reply, message, actor=supervisor)
    [reply] = _bodies("message.reply")
    assert reply["data"]["message"]["id"] == message.pk


def test_sla_warnings_and_breaches_are_events(run, receiver, make_endpoint, pool, policy, agent):
    make_endpoint(receiver, pools=[pool], events=["sla.warning", "sla.breached"])
    with time_machine.travel(datetime(2026, 6, 1, 10, 0, tzinfo=SP), tick=False):
        ticket = run(services.create_ticket, subject="Printer", pool=pool)
        run(services.assign_ticket, ticket, agent=agent, actor=agent)
    with time_machine.travel(datetime(2026, 6, 1, 11, 31, tzinfo=SP), tick=False):
        run(sweep_deadlines)
    with time_machine.travel(datetime(2026, 6, 1, 12, 1, tzinfo=SP), tick=False):
        run(sweep_deadlines)

    [warning] = _bodies("sla.warning")
    assert warning["data"]["target"] == "first_response"
    assert warning["data"]["ticket"]["id"] == ticket.pk
    [breach] = _bodies("sla.breached")
    assert breach["data"]["target"] == "first_response"


def test_an_endpoint_hears_only_the_events_it_chose(run, receiver, make_endpoint, pool, agent):
    make_endpoint(receiver, pools=[pool], events=["ticket.assigned"])
    ticket = run(services.create_ticket, subject="Printer", pool=pool)
    run(services.add_note, ticket, author=agent, body="Hm.")
    assert not Delivery.objects.exists()


def test_a_pool_move_tells_the_new_pool_s_endpoint_where_the_ticket_is_not_where_it_was(
    run, receiver, make_endpoint, pool, agent
):
    secret_pool = PoolFactory(name="Mergers and acquisitions")
    make_endpoint(receiver, pools=[pool], events=["ticket.updated"])
    ticket = run(services.create_ticket, subject="Printer", pool=secret_pool)
    run(services.update_ticket, ticket, actor=agent, pool=pool)
    [moved] = _bodies("ticket.updated")
    assert moved["data"]["field"] == "pool" and moved["data"]["before"] == ""
    assert "Mergers" not in Delivery.objects.get().body


def test_the_registry_has_every_event_the_issue_names():
    named = {
        "ticket.created", "message.customer", "message.reply", "message.note",
        "ticket.status_changed", "ticket.assigned", "sla.warning", "sla.breached",
        "survey.answered", "call.received",
    }  # fmt: skip
    assert named <= set(BY_NAME)


def test_a_satisfaction_answer_is_an_event(run, receiver, make_endpoint, pool, agent, customer):
    from datetime import timedelta

    from django.utils import timezone

    from surveys.models import Question, Questionnaire, SurveyInvitation
    from surveys.services import answer_satisfaction

    make_endpoint(receiver, pools=[pool], events=["survey.answered"])
    ticket = run(services.create_ticket, subject="Printer", pool=pool, requester=customer)
    questionnaire = Questionnaire.objects.create(name="CSAT", kind=Questionnaire.Kind.SATISFACTION)
    question = Question.objects.create(
        questionnaire=questionnaire, text="How?", kind=Question.Kind.RATING
    )
    invitation = SurveyInvitation.objects.create(
        ticket=ticket, questionnaire=questionnaire, contact=customer,
        address=customer.primary_email, nonce="n" * 32,
        expires_at=timezone.now() + timedelta(days=7),
    )  # fmt: skip
    response = run(answer_satisfaction, invitation, answers=[(question, 4)])

    [answered] = _bodies("survey.answered")
    assert answered["data"]["response_id"] == response.pk
    assert answered["data"]["answers"][0]["number"] == 4
    assert answered["data"]["ticket"]["number"] == ticket.number


def test_an_incoming_call_is_an_event_for_its_pool_s_endpoints(
    run, receiver, make_endpoint, pool, other_pool, agent
):
    from phone.services import CtiEvent, create_integration, log_call, record_cti_event

    make_endpoint(receiver, pools=[pool], events=["call.received"])
    caller = ContactFactory(name="Paula Pereira")
    caller.phones.create(number="(11) 98765-4321")
    pbx, _token = create_integration(name="Office PBX", pool=pool)
    new = CtiEvent(event="new", call_id="c-1", from_number="11987654321", to_number="4000")
    run(record_cti_event, pbx, new)
    run(record_cti_event, pbx, CtiEvent(event="answered", call_id="c-1"))
    run(record_cti_event, pbx, new)  # a repeat is not a second call

    [received] = _bodies("call.received")
    call = received["data"]["call"]
    assert call["customer_number"] == "+5511987654321"
    assert call["contact"] == {"id": caller.pk, "name": "Paula Pereira"}
    assert call["state"] == "ringing" and call["pool_id"] == pool.pk
    assert "ticket" not in received["data"]

    run(log_call, agent=agent, pool=pool, number="11912345678", notes="by hand")
    run(log_call, agent=agent, pool=pool, number="11912345678", direction="out")
    run(log_call, agent=agent, pool=other_pool, number="11912345678")
    assert len(_bodies("call.received")) == 2, "logged incoming: yes; outgoing, other pool: no"
