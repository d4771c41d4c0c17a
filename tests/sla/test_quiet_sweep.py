"""The sweep is quiet: old breaches found by a policy are recorded, not mailed, and each
person gets one digest per sweep instead of one mail per ticket and target."""

from datetime import datetime
from io import StringIO

import pytest
from django.core.management import call_command

from mailboxes.models import OutgoingEmail
from sla.models import Deadline, SlaPolicy, Target
from sla.services import apply_policies, sweep_deadlines
from tests.sla.test_sweep import MONDAY_10, SP, at, mentions
from tickets import services
from tickets.models import ActivityLog


def _backlog(events, pool, customer, count):
    with at(MONDAY_10):
        return [
            events(services.create_ticket, subject=f"Old {n}", pool=pool, requester=customer)
            for n in range(count)
        ]


@pytest.mark.parametrize("apply", ["one by one", "in a batch"])
def test_a_policy_applied_to_an_old_backlog_records_the_breaches_without_mailing(
    apply, events, pool, customer, sao_paulo, supervisor
):
    tickets = _backlog(events, pool, customer, 3)  # no policy yet: no deadlines
    with at(datetime(2026, 6, 3, 10, 0, tzinfo=SP)):
        SlaPolicy.objects.create(name="New", calendar=sao_paulo, first_response_minutes=60)
        if apply == "one by one":
            call_command("apply_sla_policies", stdout=StringIO())
        else:
            apply_policies([ticket.pk for ticket in tickets])
        result = sweep_deadlines()

    assert (result.reminders, result.escalations) == (0, 0)
    assert not OutgoingEmail.objects.exists()
    for ticket in tickets:
        deadline = Deadline.objects.get(ticket=ticket, target=Target.FIRST_RESPONSE)
        assert deadline.breached_at == datetime(2026, 6, 1, 11, 0, tzinfo=SP)
        assert deadline.remind_at is None
        assert ActivityLog.objects.filter(ticket=ticket, action="sla_breached").count() == 1
        assert not ActivityLog.objects.filter(ticket=ticket, action="sla_escalated").exists()


def test_reminders_and_escalations_of_one_sweep_reach_each_person_as_one_digest(
    events, pool, customer, policy, supervisor
):
    tickets = _backlog(events, pool, customer, 3)  # unassigned: reminders go to the supervisors too
    with at(datetime(2026, 6, 1, 12, 1, tzinfo=SP)):
        first, second = sweep_deadlines(), sweep_deadlines()

    assert (first.reminders, first.escalations) == (3, 3)
    assert (second.reminders, second.escalations) == (0, 0)
    digest = OutgoingEmail.objects.get()
    assert digest.to == [supervisor.email]
    assert digest.internal
    assert digest.headers["Auto-Submitted"] == "auto-generated"
    assert digest.subject == "6 deadlines need your attention"
    assert mentions(supervisor.email) == {ticket.number: 2 for ticket in tickets}
    missed, approaching = digest.body_text.split("Deadlines approaching:")
    assert all(ticket.get_absolute_url() in missed for ticket in tickets)
    assert all(ticket.number in approaching for ticket in tickets)
    for ticket in tickets:
        assert ActivityLog.objects.filter(ticket=ticket, action="sla_reminder").count() == 1
        assert ActivityLog.objects.filter(ticket=ticket, action="sla_escalated").count() == 1
