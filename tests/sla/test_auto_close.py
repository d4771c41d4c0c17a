"""Resolved tickets close by themselves after the pool's working days without a reply."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from mailboxes.models import OutgoingEmail
from sla.business_time import add_business_days, weekdays
from sla.models import PoolClosing
from sla.services import close_resolved_tickets, closes_at
from sla.tasks import close_resolved_tickets_task
from surveys.models import PoolSurveySettings, SurveyInvitation
from tests.sla.conftest import make_calendar
from tickets.models import ActivityLog, Ticket
from tickets.services import change_status
from tickets.services.intake import CustomerMail, receive_customer_messages
from tickets.states import Status

SP = ZoneInfo("America/Sao_Paulo")
WARSAW = ZoneInfo("Europe/Warsaw")
# Friday 13 November 2026, 17:00 in São Paulo; Friday 20 November is Black Consciousness
# Day, a national holiday in Brazil since 2024.
FRIDAY_17 = datetime(2026, 11, 13, 17, 0, tzinfo=SP)


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    def do(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()

    return do


@pytest.fixture
def resolved(pool, agent, customer, run):
    """A ticket of ``pool`` resolved by its agent on Friday at 17:00 in São Paulo."""
    ticket = Ticket.objects.create(
        number="T-1", subject="Fatura", pool=pool, requester=customer, assignee=agent
    )
    with at(FRIDAY_17):
        run(lambda: change_status(ticket, to=Status.IN_PROGRESS, actor=agent))
        return run(lambda: change_status(ticket, to=Status.RESOLVED, actor=agent))


@pytest.fixture
def sao_paulo_rule(pool):
    calendar = make_calendar("São Paulo", "America/Sao_Paulo", country="BR", subdivision="SP")
    return PoolClosing.objects.create(pool=pool, calendar=calendar, close_resolved_after_days=3)


def _status(ticket) -> str:
    return Ticket.objects.values_list("status", flat=True).get(pk=ticket.pk)


def test_working_days_skip_the_weekend_and_keep_the_time_of_day():
    schedule = weekdays("America/Sao_Paulo")
    assert add_business_days(schedule, FRIDAY_17, 3) == datetime(2026, 11, 18, 17, 0, tzinfo=SP)
    saturday = datetime(2026, 11, 14, 10, 0, tzinfo=SP)
    assert add_business_days(schedule, saturday, 1) == datetime(2026, 11, 16, 10, 0, tzinfo=SP)


def test_a_holiday_is_not_a_working_day(sao_paulo_rule):
    schedule = sao_paulo_rule.calendar.schedule()
    tuesday = datetime(2026, 11, 17, 9, 30, tzinfo=SP)
    # Wednesday 18, Thursday 19, (Friday 20 is a holiday), Monday 23.
    assert closes_at(tuesday, 3, schedule) == datetime(2026, 11, 23, 9, 30, tzinfo=SP)


def test_the_clock_change_keeps_the_local_time():
    # Poland leaves summer time on Sunday 25 October 2026: 16:00 stays 16:00 local.
    schedule = weekdays("Europe/Warsaw")
    friday = datetime(2026, 10, 23, 16, 0, tzinfo=WARSAW)
    due = add_business_days(schedule, friday, 1)
    assert due == datetime(2026, 10, 26, 16, 0, tzinfo=WARSAW)
    assert due.astimezone(WARSAW).utcoffset() == timedelta(hours=1)
    assert due - friday == timedelta(days=3, hours=1)  # the night the clocks went back


def test_a_resolved_ticket_closes_after_three_working_days(resolved, sao_paulo_rule, run):
    with at(datetime(2026, 11, 18, 16, 59, tzinfo=SP)):
        assert run(close_resolved_tickets) == []
    assert _status(resolved) == Status.RESOLVED
    with at(datetime(2026, 11, 18, 17, 0, tzinfo=SP)):
        closed = run(close_resolved_tickets)
    assert [ticket.pk for ticket in closed] == [resolved.pk]
    assert _status(resolved) == Status.CLOSED
    log = ActivityLog.objects.filter(ticket=resolved, action=ActivityLog.Action.STATUS).last()
    assert log.actor is None and log.after == Status.CLOSED
    assert "no reply from the customer" in log.detail


def test_without_a_rule_the_default_is_three_weekdays(resolved, settings, run):
    settings.TIME_ZONE = "America/Sao_Paulo"
    with at(datetime(2026, 11, 18, 16, 0, tzinfo=SP)):
        run(close_resolved_tickets)
    assert _status(resolved) == Status.RESOLVED
    with at(datetime(2026, 11, 18, 17, 1, tzinfo=SP)):
        run(close_resolved_tickets_task)
    assert _status(resolved) == Status.CLOSED


def test_zero_days_keeps_resolved_tickets_open(resolved, pool, run):
    PoolClosing.objects.create(pool=pool, close_resolved_after_days=0)
    with at(FRIDAY_17 + timedelta(days=60)):
        assert run(close_resolved_tickets) == []
    assert _status(resolved) == Status.RESOLVED


def test_a_customer_reply_reopens_and_restarts_the_wait(
    resolved, sao_paulo_rule, customer, agent, run
):
    monday = datetime(2026, 11, 16, 11, 0, tzinfo=SP)
    with at(monday):
        run(
            lambda: receive_customer_messages(
                [CustomerMail(contact=customer, body_text="Still broken", ticket=resolved)]
            )
        )
    assert _status(resolved) == Status.IN_PROGRESS
    with at(datetime(2026, 11, 18, 17, 0, tzinfo=SP)):
        assert run(close_resolved_tickets) == []
    assert _status(resolved) == Status.IN_PROGRESS
    tuesday = datetime(2026, 11, 17, 10, 0, tzinfo=SP)
    with at(tuesday):
        run(lambda: change_status(resolved, to=Status.RESOLVED, actor=agent))
    # Wednesday, Thursday, (Friday holiday), Monday 23 at 10:00.
    with at(datetime(2026, 11, 23, 9, 59, tzinfo=SP)):
        assert run(close_resolved_tickets) == []
    with at(datetime(2026, 11, 23, 10, 0, tzinfo=SP)):
        assert len(run(close_resolved_tickets)) == 1
    assert _status(resolved) == Status.CLOSED


def test_running_twice_closes_once(resolved, sao_paulo_rule, run):
    with at(datetime(2026, 11, 19, 9, 0, tzinfo=SP)):
        assert len(run(close_resolved_tickets)) == 1
        assert run(close_resolved_tickets) == []
    statuses = ActivityLog.objects.filter(
        ticket=resolved, action=ActivityLog.Action.STATUS, after=Status.CLOSED
    )
    assert statuses.count() == 1


@pytest.mark.parametrize("sent_on", ["closed", "resolved"])
def test_the_survey_goes_out_once_on_the_pools_choice(
    resolved, sao_paulo_rule, satisfaction_settings, sent_on, agent, run
):
    satisfaction_settings.satisfaction_sent_on = sent_on
    satisfaction_settings.save()
    with at(FRIDAY_17 + timedelta(minutes=5)):
        run(lambda: change_status(resolved, to=Status.IN_PROGRESS, actor=agent))
        run(lambda: change_status(resolved, to=Status.RESOLVED, actor=agent))
    assert SurveyInvitation.objects.filter(ticket=resolved).exists() == (sent_on == "resolved")
    with at(datetime(2026, 11, 19, 9, 0, tzinfo=SP)):
        run(close_resolved_tickets)
    assert _status(resolved) == Status.CLOSED
    assert SurveyInvitation.objects.filter(ticket=resolved).count() == 1
    assert OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.NOTIFICATION).count() == 1


@pytest.fixture
def satisfaction_settings(pool, db):
    from surveys.models import Question, Questionnaire

    questionnaire = Questionnaire.objects.create(name="CSAT", kind=Questionnaire.Kind.SATISFACTION)
    Question.objects.create(
        questionnaire=questionnaire, text="How was it?", kind=Question.Kind.RATING
    )
    return PoolSurveySettings.objects.create(
        pool=pool, satisfaction_enabled=True, satisfaction_questionnaire=questionnaire
    )


def test_supervisors_set_the_rule_in_the_product(client, supervisor, pool, sao_paulo_rule):
    client.force_login(supervisor)
    page = client.get(reverse("sla:pool-closing"))
    assert page.status_code == 200
    assert pool.name in page.content.decode()
    url = reverse("sla:pool-closing-edit", args=[pool.pk])
    bad = client.post(url, {"calendar": "", "close_resolved_after_days": "99"})
    assert bad.status_code == 400
    assert "At most 60 working days." in bad.content.decode()
    saved = client.post(url, {"calendar": "", "close_resolved_after_days": "5"})
    assert saved.status_code == 302
    rule = PoolClosing.objects.get(pool=pool)
    assert rule.close_resolved_after_days == 5 and rule.calendar is None


def test_agents_cannot_reach_the_closing_rules(agent_client, pool):
    assert agent_client.get(reverse("sla:pool-closing")).status_code == 404
    edit = reverse("sla:pool-closing-edit", args=[pool.pk])
    assert agent_client.post(edit, {"close_resolved_after_days": "1"}).status_code == 404
    assert not PoolClosing.objects.exists()
