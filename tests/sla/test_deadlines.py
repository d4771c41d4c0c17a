"""A ticket's deadlines follow its policy: started, paused, resumed, recomputed, met, missed."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from people.models import Organization
from sla.models import Deadline, SlaPolicy, Target
from tests.factories import ContactFactory, TopicFactory
from tickets import services
from tickets.models import ActivityLog, Ticket
from tickets.states import Priority, Status

SP = ZoneInfo("America/Sao_Paulo")
WARSAW = ZoneInfo("Europe/Warsaw")
# Monday 2026-06-01, 10:00 in São Paulo.
MONDAY_10 = datetime(2026, 6, 1, 10, 0, tzinfo=SP)


def at(moment):
    return time_machine.travel(moment, tick=False)


def deadlines(ticket):
    return {d.target: d for d in Deadline.objects.filter(ticket=ticket).order_by("pk")}


@pytest.fixture
def new_ticket(events, pool, customer, policy):
    def make(**fields):
        with at(fields.pop("when", MONDAY_10)):
            return events(
                services.create_ticket, subject="Fatura em duplicidade", pool=pool,
                requester=customer, **fields,
            )  # fmt: skip

    return make


def test_a_new_ticket_gets_first_response_and_resolution_deadlines_in_business_hours(new_ticket):
    ticket = new_ticket()

    found = deadlines(ticket)
    assert set(found) == {Target.FIRST_RESPONSE, Target.RESOLUTION}
    first, resolution = found[Target.FIRST_RESPONSE], found[Target.RESOLUTION]
    assert first.due_at == datetime(2026, 6, 1, 12, 0, tzinfo=SP)
    assert first.remind_at == datetime(2026, 6, 1, 11, 30, tzinfo=SP)
    # 18 business hours: Monday 7 (lunch excluded), Tuesday 8, Wednesday 3.
    assert resolution.due_at == datetime(2026, 6, 3, 12, 0, tzinfo=SP)
    ticket.refresh_from_db()
    assert ticket.due_at == first.due_at
    assert ActivityLog.objects.filter(
        ticket=ticket, action=ActivityLog.Action.SLA_POLICY, after="Standard"
    ).exists()


def test_waiting_for_the_customer_pauses_the_clock_and_the_reply_resumes_it(
    new_ticket, events, agent, customer
):
    ticket = new_ticket()
    with at(datetime(2026, 6, 1, 11, 0, tzinfo=SP)):
        events(services.change_status, ticket, to=Status.WAITING_CUSTOMER, actor=agent)
    paused = deadlines(ticket)[Target.FIRST_RESPONSE]
    ticket.refresh_from_db()
    assert (paused.state, paused.due_at, paused.consumed_seconds) == ("paused", None, 3600)
    assert ticket.due_at is None

    # The customer answers the next morning at 10:00: one business hour was left.
    with at(datetime(2026, 6, 2, 10, 0, tzinfo=SP)):
        events(services.add_customer_message, ticket, contact=customer, body_text="Here it is")

    resumed = deadlines(ticket)[Target.FIRST_RESPONSE]
    assert resumed.state == "running"
    assert resumed.due_at == datetime(2026, 6, 2, 11, 0, tzinfo=SP)
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.due_at == resumed.due_at


def test_a_pause_over_a_holiday_weekend_and_dst_counts_none_of_it(
    events, pool, customer, sao_paulo, agent
):
    SlaPolicy.objects.create(name="Fast", calendar=sao_paulo, first_response_minutes=180)
    # Thursday 2018-11-01 16:00 (-03): 1 h used, then waiting over Finados, the weekend
    # and the night clocks sprang forward; resumed Monday 09:00 (-02) with 2 h left.
    with at(datetime(2018, 11, 1, 16, 0, tzinfo=SP)):
        ticket = events(services.create_ticket, subject="Boleto", pool=pool, requester=customer)
    with at(datetime(2018, 11, 1, 17, 0, tzinfo=SP)):
        events(services.change_status, ticket, to=Status.WAITING_CUSTOMER, actor=agent)
    with at(datetime(2018, 11, 5, 9, 0, tzinfo=SP)):
        events(services.change_status, ticket, to=Status.IN_PROGRESS, actor=agent)

    first = deadlines(ticket)[Target.FIRST_RESPONSE]
    assert first.consumed_seconds == 3600
    assert first.due_at == datetime(2018, 11, 5, 11, 0, tzinfo=SP)
    assert first.due_at == datetime(2018, 11, 5, 13, 0, tzinfo=UTC)


def test_changing_the_topic_moves_the_ticket_to_another_policy_and_recomputes(
    new_ticket, events, sao_paulo, agent
):
    outage = TopicFactory(name="Outage", default_priority=Priority.URGENT)
    SlaPolicy.objects.create(
        name="Outage", order=10, topic=outage, calendar=sao_paulo,
        first_response_minutes=30, resolution_minutes=240,
    )  # fmt: skip
    ticket = new_ticket()

    with at(datetime(2026, 6, 1, 10, 10, tzinfo=SP)):
        events(services.update_ticket, ticket, actor=agent, topic=outage)

    found = deadlines(ticket)
    # Counted from the ticket's arrival, on the new policy's budget.
    assert found[Target.FIRST_RESPONSE].due_at == datetime(2026, 6, 1, 10, 30, tzinfo=SP)
    assert found[Target.RESOLUTION].due_at == datetime(2026, 6, 1, 15, 0, tzinfo=SP)
    assert found[Target.FIRST_RESPONSE].policy.name == "Outage"
    log = ActivityLog.objects.get(
        ticket=ticket, action=ActivityLog.Action.SLA_POLICY, before="Standard"
    )
    assert log.after == "Outage"


def test_raising_the_priority_picks_the_priority_policy(new_ticket, events, sao_paulo, agent):
    SlaPolicy.objects.create(
        name="Urgent", order=20, priority=Priority.URGENT, calendar=sao_paulo,
        first_response_minutes=15,
    )  # fmt: skip
    ticket = new_ticket()

    with at(datetime(2026, 6, 1, 10, 5, tzinfo=SP)):
        events(services.update_ticket, ticket, actor=agent, priority=Priority.URGENT)

    found = deadlines(ticket)
    assert found[Target.FIRST_RESPONSE].due_at == datetime(2026, 6, 1, 10, 15, tzinfo=SP)
    # The urgent policy has no resolution target: that clock stops.
    assert Deadline.objects.get(ticket=ticket, target=Target.RESOLUTION).state == "cancelled"
    ticket.refresh_from_db()
    assert ticket.due_at == datetime(2026, 6, 1, 10, 15, tzinfo=SP)


def test_an_organization_policy_uses_the_warsaw_calendar_and_polish_holidays(
    events, pool, warsaw, policy
):
    company = Organization.objects.create(name="Kowalski sp. z o.o.")
    SlaPolicy.objects.create(
        name="Poland", order=5, organization=company, calendar=warsaw, first_response_minutes=120
    )
    customer = ContactFactory(name="Jan", organization=company)
    # Tuesday 2026-11-10 16:00 in Warsaw; the 11th is Independence Day.
    with at(datetime(2026, 11, 10, 16, 0, tzinfo=WARSAW)):
        ticket = events(services.create_ticket, subject="Faktura", pool=pool, requester=customer)

    first = deadlines(ticket)[Target.FIRST_RESPONSE]
    assert first.policy.name == "Poland"
    assert first.due_at == datetime(2026, 11, 12, 10, 0, tzinfo=WARSAW)


def test_a_reply_meets_the_first_response_and_a_customer_message_starts_the_next(
    new_ticket, events, agent, customer
):
    ticket = new_ticket()
    with at(datetime(2026, 6, 1, 11, 0, tzinfo=SP)):
        events(services.add_reply, ticket, author=agent, body="Checking it now.")
    with at(datetime(2026, 6, 1, 17, 0, tzinfo=SP)):
        events(services.add_customer_message, ticket, contact=customer, body_text="Any news?")

    found = deadlines(ticket)
    first, following = found[Target.FIRST_RESPONSE], found[Target.NEXT_RESPONSE]
    assert (first.state, first.met_in_time) == ("met", True)
    # Four business hours from Monday 17:00: one on Monday, three on Tuesday.
    assert following.due_at == datetime(2026, 6, 2, 12, 0, tzinfo=SP)

    with at(datetime(2026, 6, 2, 9, 30, tzinfo=SP)):
        events(services.add_reply, ticket, author=agent, body="Fixed.")
    assert deadlines(ticket)[Target.NEXT_RESPONSE].state == "met"


def test_a_junior_reply_meets_the_target_only_once_approved(new_ticket, events, junior, supervisor):
    ticket = new_ticket()
    with at(datetime(2026, 6, 1, 11, 0, tzinfo=SP)):
        message = events(services.add_reply, ticket, author=junior, body="Draft")
    assert deadlines(ticket)[Target.FIRST_RESPONSE].state == "running"

    with at(datetime(2026, 6, 1, 13, 30, tzinfo=SP)):
        events(services.approve_reply, message, actor=supervisor)

    first = deadlines(ticket)[Target.FIRST_RESPONSE]
    assert first.state == "met"
    assert first.met_in_time is False
    assert first.breached_at == datetime(2026, 6, 1, 12, 0, tzinfo=SP)


def test_resolving_meets_the_resolution_and_reopening_starts_a_fresh_clock(
    new_ticket, events, agent, customer
):
    ticket = new_ticket()
    with at(datetime(2026, 6, 2, 9, 0, tzinfo=SP)):
        events(services.change_status, ticket, to=Status.RESOLVED, actor=agent)
    found = deadlines(ticket)
    assert found[Target.RESOLUTION].state == "met"
    assert found[Target.RESOLUTION].met_in_time is True
    assert found[Target.FIRST_RESPONSE].state == "cancelled"
    ticket.refresh_from_db()
    assert ticket.due_at is None

    with at(datetime(2026, 6, 8, 9, 0, tzinfo=SP)):
        events(services.add_customer_message, ticket, contact=customer, body_text="Broken again")

    live = Deadline.objects.get(ticket=ticket, target=Target.RESOLUTION, state="running")
    assert live.started_at == datetime(2026, 6, 8, 9, 0, tzinfo=SP)
    assert live.due_at == datetime(2026, 6, 10, 11, 0, tzinfo=SP)


def test_cancelling_the_ticket_stops_every_clock(new_ticket, events, agent):
    ticket = new_ticket()
    with at(datetime(2026, 6, 1, 10, 30, tzinfo=SP)):
        events(services.change_status, ticket, to=Status.CANCELLED, actor=agent)

    assert set(Deadline.objects.filter(ticket=ticket).values_list("state", flat=True)) == {
        "cancelled"
    }
    assert Ticket.objects.get(pk=ticket.pk).due_at is None


def test_a_ticket_no_policy_matches_gets_no_deadline(events, other_pool, customer, sao_paulo):
    SlaPolicy.objects.create(
        name="Billing only", calendar=sao_paulo, pool=None, topic=TopicFactory(),
        first_response_minutes=60,
    )  # fmt: skip
    with at(MONDAY_10):
        ticket = events(services.create_ticket, subject="Hi", pool=other_pool, requester=customer)

    assert not Deadline.objects.filter(ticket=ticket).exists()
    assert Ticket.objects.get(pk=ticket.pk).due_at is None


def test_applying_the_policy_twice_changes_nothing(new_ticket):
    from sla.services import apply_policies

    ticket = new_ticket()
    before = list(Deadline.objects.filter(ticket=ticket).values())
    with at(MONDAY_10 + timedelta(minutes=5)):
        apply_policies([ticket.pk])

    assert list(Deadline.objects.filter(ticket=ticket).values()) == before
    assert ActivityLog.objects.filter(ticket=ticket, action="sla_policy").count() == 1


def test_a_ticket_merged_away_stops_its_clocks_without_counting_as_resolved(
    new_ticket, events, agent
):
    source, target = new_ticket(), new_ticket()
    with at(datetime(2026, 6, 1, 10, 30, tzinfo=SP)):
        events(services.merge_tickets, source, into=target, actor=agent)

    assert set(Deadline.objects.filter(ticket=source).values_list("state", flat=True)) == {
        "cancelled"
    }
    assert Deadline.objects.filter(ticket=target, state="running").count() == 2
