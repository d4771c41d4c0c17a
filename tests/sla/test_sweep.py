"""The minute sweep reminds and escalates each deadline exactly once, however often it runs."""

import re
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from mailboxes.models import OutgoingEmail
from sla.models import Deadline, SlaPolicy, Target
from sla.services import sweep_deadlines
from tests.concurrency import run_at_once
from tests.factories import PoolFactory
from tickets import services
from tickets.models import ActivityLog, PoolMembership
from tickets.states import Priority

SP = ZoneInfo("America/Sao_Paulo")
MONDAY_10 = datetime(2026, 6, 1, 10, 0, tzinfo=SP)


def at(moment):
    return time_machine.travel(moment, tick=False)


def outbox(kind_subject: str):
    return OutgoingEmail.objects.filter(subject__startswith=kind_subject)


def mentions(address: str) -> Counter:
    """How often each ticket number is in the SLA mail to ``address`` (single or digest)."""
    told: Counter = Counter()
    for mail in OutgoingEmail.objects.all():
        if address not in mail.to:
            continue
        if mail.ticket_id:
            told[mail.ticket.number] += 1
        else:
            told.update(re.findall(r"^- Ticket (\S+) ", mail.body_text, re.MULTILINE))
    return told


@pytest.fixture
def assigned_ticket(events, pool, customer, policy, agent):
    with at(MONDAY_10):
        ticket = events(services.create_ticket, subject="Printer", pool=pool, requester=customer)
        return events(services.assign_ticket, ticket, agent=agent, actor=agent)


def test_nothing_happens_before_the_reminder_point(assigned_ticket):
    with at(datetime(2026, 6, 1, 11, 29, tzinfo=SP)):
        result = sweep_deadlines()

    assert (result.reminders, result.escalations) == (0, 0)
    assert not OutgoingEmail.objects.exists()


def test_the_reminder_goes_to_the_technician_once_however_often_the_sweep_runs(
    assigned_ticket, agent
):
    with at(datetime(2026, 6, 1, 11, 31, tzinfo=SP)):
        first, second = sweep_deadlines(), sweep_deadlines()

    assert (first.reminders, second.reminders) == (1, 0)
    mail = OutgoingEmail.objects.get()
    assert mail.to == [agent.email]
    assert mail.subject.startswith("Deadline approaching: first response")
    assert mail.subject.endswith(assigned_ticket.tag_label)
    assert mail.headers["Auto-Submitted"] == "auto-generated"
    assert assigned_ticket.get_absolute_url() in mail.body_text
    # In the calendar's time zone (the agent set none): 12:00 in São Paulo.
    assert "June 1, 2026, noon (America/Sao_Paulo)" in mail.body_text
    log = ActivityLog.objects.get(ticket=assigned_ticket, action=ActivityLog.Action.SLA_REMINDER)
    assert log.after == "First response"


def test_a_breach_escalates_to_supervisors_raises_priority_and_moves_pool_once(
    assigned_ticket, supervisor, policy, agent, events
):
    night_shift = PoolFactory(name="Night shift")
    PoolMembership.objects.create(pool=night_shift, user=agent)
    policy.raise_priority, policy.reassign_pool = True, night_shift
    policy.save()

    with at(datetime(2026, 6, 1, 12, 1, tzinfo=SP)):
        results = [events(sweep_deadlines), events(sweep_deadlines)]

    assert [r.escalations for r in results] == [1, 0]
    breach = outbox("Deadline missed").get()
    assert breach.to == [supervisor.email]
    assigned_ticket.refresh_from_db()
    assert assigned_ticket.priority == Priority.HIGH
    assert assigned_ticket.pool == night_shift
    # The deadlines moved with it: the dashboard counts them under the new pool.
    assert set(Deadline.objects.filter(ticket=assigned_ticket).values_list("pool", flat=True)) == {
        night_shift.pk
    }
    first = Deadline.objects.get(ticket=assigned_ticket, target=Target.FIRST_RESPONSE)
    assert first.breached_at == datetime(2026, 6, 1, 12, 1, tzinfo=SP)
    actions = list(
        ActivityLog.objects.filter(ticket=assigned_ticket)
        .exclude(action__in=["created", "assigned", "status", "sla_policy"])
        .values_list("action", flat=True)
    )
    assert actions == ["sla_reminder", "sla_breached", "sla_escalated", "priority", "pool"]


def test_escalation_to_an_agent_outside_the_pool_is_logged_not_forced(
    assigned_ticket, policy, other_agent
):
    policy.reassign_agent = other_agent
    policy.save()

    with at(datetime(2026, 6, 1, 12, 1, tzinfo=SP)):
        sweep_deadlines()

    assigned_ticket.refresh_from_db()
    assert assigned_ticket.assignee.username == "agent"
    assert ActivityLog.objects.filter(
        ticket=assigned_ticket, action="sla_escalated", detail__contains="not a member"
    ).exists()


def test_a_paused_deadline_is_never_reminded_nor_escalated(assigned_ticket, events, agent):
    with at(datetime(2026, 6, 1, 11, 0, tzinfo=SP)):
        events(services.change_status, assigned_ticket, to="waiting_customer", actor=agent)
    with at(datetime(2026, 6, 5, 12, 0, tzinfo=SP)):
        result = sweep_deadlines()

    assert (result.reminders, result.escalations) == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_each_reminder_and_escalation_exactly_once(
    pool, customer, sao_paulo, agent, supervisor
):
    SlaPolicy.objects.create(
        name="Tight", calendar=sao_paulo, first_response_minutes=60, reminder_before=50,
        reminder_unit=SlaPolicy.ReminderUnit.PERCENT,
    )  # fmt: skip
    with at(MONDAY_10):
        tickets = [
            services.assign_ticket(
                services.create_ticket(subject=f"T{i}", pool=pool, requester=customer),
                agent=agent,
                actor=agent,
            )
            for i in range(12)
        ]
    assert Deadline.objects.filter(state="running").count() == 12

    with at(datetime(2026, 6, 1, 10, 45, tzinfo=SP)):
        reminded = run_at_once([sweep_deadlines, sweep_deadlines])
    with at(datetime(2026, 6, 1, 11, 5, tzinfo=SP)):
        escalated = run_at_once([sweep_deadlines, sweep_deadlines])

    assert sum(r.reminders for r in reminded) == 12
    assert sum(r.escalations for r in escalated) == 12
    # Each ticket is in exactly one of the agent's reminders and one of their breaches (the
    # technician's "SLA warning or breach" choice), and in one of the supervisor's breaches.
    assert mentions(agent.email) == {ticket.number: 2 for ticket in tickets}
    assert mentions(supervisor.email) == {ticket.number: 1 for ticket in tickets}
    for ticket in tickets:
        assert ActivityLog.objects.filter(ticket=ticket, action="sla_reminder").count() == 1
        assert ActivityLog.objects.filter(ticket=ticket, action="sla_breached").count() == 1


def test_escalation_goes_to_the_pools_own_supervisors_when_it_has_some(
    assigned_ticket, supervisor, pool
):
    from people.models import Role
    from people.services import create_agent

    own = create_agent(
        username="poolboss", password=None, role=Role.SUPERVISOR, email="poolboss@helpdesk.test"
    )
    PoolMembership.objects.create(pool=pool, user=own)

    with at(datetime(2026, 6, 1, 12, 1, tzinfo=SP)):
        sweep_deadlines()

    assert outbox("Deadline missed").get().to == ["poolboss@helpdesk.test"]


def test_an_admin_edited_template_words_the_reminder_and_a_broken_one_falls_back(
    assigned_ticket, agent
):
    from mailboxes.models import EmailTemplate

    template = EmailTemplate.objects.create(
        kind=EmailTemplate.Kind.SLA_REMINDER, language="en", subject="Hurry: {{ ticket.number }}",
        body_text="{{ target }} due {{ deadline.due_at|date:'H:i' }} {{ url }}",
    )  # fmt: skip
    with at(datetime(2026, 6, 1, 11, 31, tzinfo=SP)):
        sweep_deadlines()
    mail = OutgoingEmail.objects.get()
    assert mail.subject == f"Hurry: {assigned_ticket.number} {assigned_ticket.tag_label}"
    # In the recipient's zone (São Paulo), as the default text shows it.
    assert mail.body_text.startswith("First response due 12:00 http")

    template.body_text = "{% if %}"
    template.save()
    Deadline.objects.filter(ticket=assigned_ticket, target=Target.RESOLUTION).update(
        remind_at=datetime(2026, 6, 1, 11, 0, tzinfo=SP)
    )
    with at(datetime(2026, 6, 1, 11, 32, tzinfo=SP)):
        assert sweep_deadlines().reminders == 1
    assert OutgoingEmail.objects.latest("pk").subject.startswith("Deadline approaching")


def test_escalation_can_mail_the_manager_and_the_watchers_too(
    assigned_ticket, supervisor, policy, other_agent, junior
):
    policy.notify_manager = policy.notify_watchers = True
    policy.save()
    assigned_ticket.manager = other_agent
    assigned_ticket.save(update_fields=["manager"])
    assigned_ticket.watchers.add(junior)

    with at(datetime(2026, 6, 1, 12, 1, tzinfo=SP)):
        sweep_deadlines()

    # One mail each, in each one's language and time zone.
    breaches = outbox("Deadline missed").filter(ticket=assigned_ticket)
    assert sorted(mail.to[0] for mail in breaches) == sorted(
        [supervisor.email, other_agent.email, junior.email]
    )
    escalated = ActivityLog.objects.get(ticket=assigned_ticket, action="sla_escalated")
    assert junior.email in escalated.detail


def test_one_failing_ticket_does_not_hold_up_the_others(
    events, pool, customer, policy, agent, monkeypatch
):
    import importlib

    # The module, not the function the package re-exports under the same name.
    sweep_module = importlib.import_module("sla.services.sweep")

    with at(MONDAY_10):
        broken, fine = (
            events(services.create_ticket, subject=subject, pool=pool, requester=customer)
            for subject in ("Broken", "Fine")
        )
    real_mail = sweep_module._mail

    def mail(deadline, kind, recipients, digest):
        if deadline.ticket_id == broken.pk:
            raise RuntimeError("template server on fire")
        real_mail(deadline, kind, recipients, digest)

    monkeypatch.setattr(sweep_module, "_mail", mail)
    with at(datetime(2026, 6, 1, 11, 31, tzinfo=SP)):
        assert sweep_deadlines().reminders == 1
        monkeypatch.setattr(sweep_module, "_mail", real_mail)
        assert sweep_deadlines().reminders == 1  # the broken one, claimed only now that it works

    for ticket in (broken, fine):
        assert ActivityLog.objects.filter(ticket=ticket, action="sla_reminder").count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_sweep_and_agents_changing_the_same_tickets_at_once_neither_fail_nor_repeat(
    pool, customer, sao_paulo, agent, supervisor
):
    SlaPolicy.objects.create(
        name="Tight", calendar=sao_paulo, first_response_minutes=60, raise_priority=True
    )
    with at(MONDAY_10):
        tickets = [
            services.create_ticket(subject=f"T{i}", pool=pool, requester=customer)
            for i in range(10)
        ]

    def agents_work():
        for ticket in tickets:
            services.update_ticket(ticket, actor=agent, priority=Priority.LOW)
            services.assign_ticket(ticket, agent=agent, actor=agent)

    with at(datetime(2026, 6, 1, 11, 5, tzinfo=SP)):
        run_at_once([sweep_deadlines, agents_work])
        sweep_deadlines()

    assert mentions(supervisor.email) == {ticket.number: 1 for ticket in tickets}
    for ticket in tickets:
        assert ActivityLog.objects.filter(ticket=ticket, action="sla_breached").count() == 1
