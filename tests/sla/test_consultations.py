"""Consultations: reminders once per period, answers on time or late, closing stops them."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from mailboxes.models import OutgoingEmail
from sla.models import Consultation, Deadline
from sla.services import record_consultation_answer, start_consultation, sweep_deadlines
from tests.factories import ContactFactory
from tickets import services
from tickets.models import ActivityLog
from tickets.states import Status

SP = ZoneInfo("America/Sao_Paulo")
MONDAY_10 = datetime(2026, 6, 1, 10, 0, tzinfo=SP)


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def consultation(events, pool, customer, policy, agent, department):
    with at(MONDAY_10):
        ticket = events(services.create_ticket, subject="Contract", pool=pool, requester=customer)
        events(services.assign_ticket, ticket, agent=agent, actor=agent)
        return events(
            start_consultation, ticket, department=department, question="OK?", actor=agent
        )


def reminders(consultation):
    return OutgoingEmail.objects.filter(
        ticket=consultation.ticket, to=[consultation.department.email], subject__contains="still"
    )


def test_the_answer_is_due_after_the_response_time_in_business_hours(consultation):
    # Four business hours from Monday 10:00 in São Paulo, lunch excluded.
    assert consultation.due_at == datetime(2026, 6, 1, 15, 0, tzinfo=SP)
    deadline = Deadline.objects.get(consultation=consultation)
    assert (deadline.target, deadline.due_at) == ("consultation", consultation.due_at)
    consultation.ticket.refresh_from_db()
    assert consultation.ticket.due_at == datetime(2026, 6, 1, 12, 0, tzinfo=SP)


def test_a_late_department_is_reminded_once_per_period(consultation):
    with at(datetime(2026, 6, 1, 15, 1, tzinfo=SP)):
        assert [sweep_deadlines().consultation_reminders for _ in range(3)] == [1, 0, 0]
    with at(datetime(2026, 6, 1, 17, 59, tzinfo=SP)):
        assert sweep_deadlines().consultation_reminders == 0
    # The next period ends four business hours later: Tuesday 11:00.
    with at(datetime(2026, 6, 2, 11, 1, tzinfo=SP)):
        assert sweep_deadlines().consultation_reminders == 1

    assert reminders(consultation).count() == 2
    assert ActivityLog.objects.filter(action="consultation_reminder").count() == 2
    consultation.refresh_from_db()
    assert consultation.reminders_sent == 2
    assert Deadline.objects.get(consultation=consultation).breached_at is not None


def test_a_worker_down_for_days_sends_one_reminder_not_a_burst(consultation):
    with at(datetime(2026, 6, 10, 10, 0, tzinfo=SP)):
        assert sweep_deadlines().consultation_reminders == 1

    consultation.refresh_from_db()
    assert consultation.next_reminder_at > datetime(2026, 6, 10, 10, 0, tzinfo=SP)


def test_answers_are_reported_on_time_or_late(consultation, events, agent, department):
    legal = ContactFactory(name="Legal")
    with at(datetime(2026, 6, 1, 14, 0, tzinfo=SP)):
        events(record_consultation_answer, consultation, contact=legal, body_text="Yes")

    second = Consultation.objects.create(
        ticket=consultation.ticket, department=department, consultant=agent,
        due_at=datetime(2026, 6, 1, 15, 0, tzinfo=SP),
    )  # fmt: skip
    with at(datetime(2026, 6, 2, 9, 0, tzinfo=SP)):
        events(record_consultation_answer, second, contact=legal, body_text="Late yes")

    assert list(Consultation.objects.answered_on_time()) == [consultation]
    assert list(Consultation.objects.answered_late()) == [second]
    assert Deadline.objects.met_in_time().filter(target="consultation").count() == 1


def test_an_answer_returns_the_ticket_to_the_consultant(
    consultation, events, other_agent, pool, agent
):
    from tickets.models import PoolMembership

    PoolMembership.objects.create(pool=pool, user=other_agent)
    with at(datetime(2026, 6, 1, 11, 0, tzinfo=SP)):
        events(services.assign_ticket, consultation.ticket, agent=other_agent, actor=other_agent)
        before = set(OutgoingEmail.objects.values_list("pk", flat=True))
        events(record_consultation_answer, consultation, contact=ContactFactory(), body_text="Fine")

    ticket = consultation.ticket
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == (Status.IN_PROGRESS, agent)
    # One mail, the answer itself: no separate "assigned to me" for the same news.
    mails = OutgoingEmail.objects.filter(to=[agent.email]).exclude(pk__in=before)
    assert [("answered" in mail.subject) for mail in mails] == [True]
    assert ActivityLog.objects.filter(ticket=ticket, action="consultation_answered").exists()


def test_a_second_answer_to_an_answered_consultation_is_not_taken(consultation, events):
    contact = ContactFactory()
    events(record_consultation_answer, consultation, contact=contact, body_text="One")

    assert record_consultation_answer(consultation, contact=contact, body_text="Two") is None


def test_closing_the_ticket_cancels_open_consultations_and_their_reminders(
    consultation, events, agent
):
    with at(datetime(2026, 6, 1, 11, 0, tzinfo=SP)):
        events(services.change_status, consultation.ticket, to=Status.CLOSED, actor=agent)
    with at(datetime(2026, 6, 3, 10, 0, tzinfo=SP)):
        result = sweep_deadlines()

    consultation.refresh_from_db()
    assert consultation.state == "cancelled"
    assert (result.consultation_reminders, result.escalations) == (0, 0)
    assert not reminders(consultation).exists()


def test_an_inactive_department_cannot_be_asked(events, pool, customer, agent, department):
    from django.core.exceptions import ValidationError

    department.active = False
    department.save()
    ticket = services.create_ticket(subject="X", pool=pool, requester=customer)

    with pytest.raises(ValidationError):
        start_consultation(ticket, department=department, question="?", actor=agent)
