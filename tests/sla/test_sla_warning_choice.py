"""The technician's "SLA warning" choice (off, at once, digest) decides how they hear of
their ticket's near and missed deadlines; supervisors' escalation mail does not depend on
it, and an approved absence hands the warning to the substitute."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from mailboxes.models import NotificationPreference, OutgoingEmail, PendingNotification
from sla.services import sweep_deadlines
from tests.conftest import _agent
from tickets import services

pytestmark = pytest.mark.django_db

SP = ZoneInfo("America/Sao_Paulo")
MONDAY_10 = datetime(2026, 6, 1, 10, 0, tzinfo=SP)
NEAR = datetime(2026, 6, 1, 11, 31, tzinfo=SP)  # past the first response's reminder point
MISSED = datetime(2026, 6, 1, 12, 1, tzinfo=SP)  # the first response is late


def _choose(user, delivery):
    NotificationPreference.objects.update_or_create(user=user, defaults={"sla_warning": delivery})


def _sla_mail_to(user, subject):
    return list(OutgoingEmail.objects.filter(to=[user.email], subject__startswith=subject))


def _pending(user):
    return list(
        PendingNotification.objects.filter(
            user=user, topic=NotificationPreference.Topic.SLA_WARNING
        ).values_list("ticket__number", flat=True)
    )


@pytest.fixture
def assigned_ticket(events, pool, customer, policy, agent):
    with time_machine.travel(MONDAY_10, tick=False):
        ticket = events(services.create_ticket, subject="Printer", pool=pool, requester=customer)
        return events(services.assign_ticket, ticket, agent=agent, actor=agent)


@pytest.mark.parametrize("delivery", ["off", "immediate", "digest"])
def test_the_reminder_follows_the_technicians_choice(assigned_ticket, agent, delivery):
    _choose(agent, delivery)
    with time_machine.travel(NEAR, tick=False):
        assert sweep_deadlines().reminders == 1
    mails = _sla_mail_to(agent, "Deadline approaching")
    if delivery == "off":
        assert (mails, _pending(agent)) == ([], [])
    elif delivery == "immediate":
        assert len(mails) == 1 and _pending(agent) == []
    else:
        assert mails == [] and _pending(agent) == [assigned_ticket.number]


@pytest.mark.parametrize("delivery", ["off", "immediate", "digest"])
def test_the_breach_follows_the_technicians_choice_and_supervisors_hear_anyway(
    assigned_ticket, agent, supervisor, delivery
):
    _choose(agent, delivery)
    with time_machine.travel(MISSED, tick=False):
        assert sweep_deadlines().escalations == 1
    assert len(_sla_mail_to(supervisor, "Deadline missed")) == 1
    # The sweep gathers one person's mails of a round into one ("2 deadlines need...").
    mine = [m for m in OutgoingEmail.objects.filter(to=[agent.email]) if "was due" in m.body_text]
    assert len(mine) == (1 if delivery == "immediate" else 0)
    assert (assigned_ticket.number in _pending(agent)) == (delivery == "digest")


def test_the_default_warns_the_technician_at_once(assigned_ticket, agent):
    assert not NotificationPreference.objects.filter(user=agent).exists()
    with time_machine.travel(NEAR, tick=False):
        sweep_deadlines()
    assert len(_sla_mail_to(agent, "Deadline approaching")) == 1


def test_an_absent_technicians_warning_goes_to_the_substitute(
    assigned_ticket, agent, pool, make_absence
):
    bruno = _agent("bruno", pools=[pool])
    with time_machine.travel(NEAR - timedelta(minutes=5), tick=False):
        make_absence(agent, substitute=bruno)
    with time_machine.travel(NEAR, tick=False):
        sweep_deadlines()
    assert _sla_mail_to(agent, "Deadline approaching") == []
    assert len(_sla_mail_to(bruno, "Deadline approaching")) == 1
