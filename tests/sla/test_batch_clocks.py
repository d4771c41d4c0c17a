"""apply_policies and follow_customer_messages: the one path, for one ticket or many."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from people.models import Organization
from sla.models import Deadline, SlaPolicy, Target
from sla.services import apply_policies, follow_customer_messages
from tests.factories import ContactFactory, TopicFactory
from tickets.models import ActivityLog, Ticket
from tickets.states import Priority, Status

SP = ZoneInfo("America/Sao_Paulo")
MONDAY_10 = datetime(2026, 6, 1, 10, 0, tzinfo=SP)
State = Deadline.State


def at(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture
def policies(policy, warsaw, other_pool):
    """Standard for everything, plus narrower ones that win by order."""
    topic = TopicFactory(name="Outage")
    organization = Organization.objects.create(name="ACME")
    SlaPolicy.objects.create(
        name="Hardware", order=10, pool=other_pool, calendar=warsaw,
        first_response_minutes=60, resolution_minutes=600,
    )  # fmt: skip
    SlaPolicy.objects.create(
        name="Outage", order=20, topic=topic, calendar=warsaw,
        first_response_minutes=30, next_response_minutes=60, resolution_minutes=240,
        reminder_before=50, reminder_unit=SlaPolicy.ReminderUnit.PERCENT,
    )  # fmt: skip
    SlaPolicy.objects.create(
        name="Urgent", order=30, priority=Priority.URGENT, calendar=warsaw,
        first_response_minutes=15, resolution_minutes=120,
    )  # fmt: skip
    SlaPolicy.objects.create(
        name="ACME", order=40, organization=organization, calendar=warsaw,
        resolution_minutes=900,
    )  # fmt: skip
    return {"topic": topic, "organization": organization, "other_pool": other_pool}


def _ticket(pool, customer, number, **fields) -> Ticket:
    return Ticket.objects.create(
        number=number, subject="Fatura", pool=pool, requester=customer, **fields
    )


def _cast(pool, customer, policies, tag) -> list[Ticket]:
    """Tickets in every situation a policy meets; the same situations for each ``tag``."""
    acme = ContactFactory(name=f"ACME person {tag}", organization=policies["organization"])
    with at(MONDAY_10):
        tickets = [
            _ticket(pool, customer, f"{tag}-plain"),
            _ticket(policies["other_pool"], customer, f"{tag}-hardware"),
            _ticket(pool, customer, f"{tag}-outage", topic=policies["topic"]),
            _ticket(pool, acme, f"{tag}-acme", priority=Priority.LOW),
            _ticket(pool, customer, f"{tag}-waiting", status=Status.WAITING_CUSTOMER),
            _ticket(pool, None, f"{tag}-nobody"),
            # These had a policy already: closed since, reopened, raised, moved.
            _ticket(pool, customer, f"{tag}-closed"),
            _ticket(pool, customer, f"{tag}-reopened"),
            _ticket(pool, customer, f"{tag}-raised"),
            _ticket(pool, customer, f"{tag}-moved"),
        ]
        apply_policies([ticket.pk for ticket in tickets[6:]])
    closed, reopened, raised, moved = tickets[6:]
    Ticket.objects.filter(pk=closed.pk).update(status=Status.CLOSED)
    Deadline.objects.filter(ticket=reopened, target=Target.RESOLUTION).update(state=State.MET)
    Ticket.objects.filter(pk=raised.pk).update(priority=Priority.URGENT)
    Ticket.objects.filter(pk=moved.pk).update(pool=policies["other_pool"])
    return tickets


def _summary(tickets):
    rows = []
    for ticket in tickets:
        ticket.refresh_from_db()
        deadlines = sorted(
            (
                d.target,
                d.state,
                d.policy.name if d.policy else "",
                d.pool_id,
                d.budget_seconds,
                d.consumed_seconds,
                d.started_at,
                d.running_since,
                d.due_at,
                d.remind_at,
            )
            for d in Deadline.objects.filter(ticket=ticket).select_related("policy")
        )
        history = list(
            ActivityLog.objects.filter(ticket=ticket, action=ActivityLog.Action.SLA_POLICY)
            .order_by("pk")
            .values_list("before", "after")
        )
        rows.append((ticket.number.split("-")[1], ticket.due_at, deadlines, history))
    return rows


def _apply(ticket_ids, way):
    if way == "one by one":
        return {pk: apply_policies([pk])[pk] for pk in ticket_ids}
    return apply_policies(ticket_ids)


# Each situation of _cast: the policy of its live deadlines, its policy history.
EXPECTED = {
    "plain": ({"Standard"}, [("", "Standard")]),
    "hardware": ({"Hardware"}, [("", "Hardware")]),
    "outage": ({"Outage"}, [("", "Outage")]),
    "acme": ({"ACME"}, [("", "ACME")]),
    "waiting": ({"Standard"}, [("", "Standard")]),
    "nobody": ({"Standard"}, [("", "Standard")]),
    "closed": (set(), [("", "Standard"), ("Standard", "")]),
    "reopened": ({"Standard"}, [("", "Standard")]),
    "raised": ({"Urgent"}, [("", "Standard"), ("Standard", "Urgent")]),
    "moved": ({"Hardware"}, [("", "Standard"), ("Standard", "Hardware")]),
}


@pytest.mark.parametrize("way", ["one by one", "forty together"])
def test_each_ticket_gets_its_policy_deadlines_and_due_time_alone_or_forty_at_once(
    pool, customer, policies, way
):
    casts = [_cast(pool, customer, policies, tag) for tag in "ABCD"]  # 40 tickets
    tickets = [ticket for cast in casts for ticket in cast]
    with at(MONDAY_10 + timedelta(hours=1)):
        chosen = _apply([ticket.pk for ticket in tickets], way)

    for cast in casts:
        summary = _summary(cast)
        live = {row[0]: {d[2] for d in row[2] if d[1] in ("running", "paused")} for row in summary}
        history = {row[0]: row[3] for row in summary}
        assert {name: (live[name], history[name]) for name in live} == EXPECTED
        due = {row[0]: row[1] for row in summary}
        assert due["closed"] is None and due["waiting"] is None  # stopped, paused
        assert all(due[name] for name in EXPECTED if name not in ("closed", "waiting"))
    assert [chosen[ticket.pk] is None for ticket in tickets].count(True) == 4


def test_applying_the_policies_of_a_batch_twice_changes_nothing(pool, customer, policies):
    tickets = _cast(pool, customer, policies, "A")
    with at(MONDAY_10 + timedelta(hours=1)):
        apply_policies([ticket.pk for ticket in tickets])
        first = _summary(tickets)
        apply_policies([ticket.pk for ticket in tickets])
    assert _summary(tickets) == first


def test_the_policies_of_ten_or_forty_new_tickets_cost_the_same_few_queries(
    pool, customer, policies
):
    counts = []
    for tag, count in (("A", 10), ("B", 40)):
        with at(MONDAY_10):
            tickets = [_ticket(pool, customer, f"{tag}-{n}") for n in range(count)]
        with CaptureQueriesContext(connection) as queries:
            apply_policies([ticket.pk for ticket in tickets])
        counts.append(len(queries))
        assert Deadline.objects.filter(ticket__in=tickets).count() == 2 * count
        assert all(
            ticket.due_at for ticket in Ticket.objects.filter(pk__in=[t.pk for t in tickets])
        )
    # Lock, policies, live deadlines, earlier resolutions, a calendar (2), INSERT,
    # pool move, activity, due times; plus the savepoint of the test's transaction (2).
    assert counts[0] == counts[1] <= 12


def _answered(pool, customer, policies, tag) -> list[Ticket]:
    """Tickets we have answered, and some the next response clock must leave alone."""
    with at(MONDAY_10):
        tickets = [
            _ticket(pool, customer, f"{tag}-answered"),
            _ticket(pool, customer, f"{tag}-outage", topic=policies["topic"]),
            _ticket(pool, customer, f"{tag}-waiting", status=Status.WAITING_CUSTOMER),
            _ticket(pool, customer, f"{tag}-running"),
            _ticket(pool, customer, f"{tag}-unanswered"),
            _ticket(pool, customer, f"{tag}-resolved", status=Status.RESOLVED),
            _ticket(policies["other_pool"], customer, f"{tag}-hardware"),  # no next response
        ]
    Ticket.objects.filter(pk__in=[t.pk for t in tickets if "unanswered" not in t.number]).update(
        first_response_at=MONDAY_10
    )
    with at(MONDAY_10 + timedelta(minutes=5)):
        follow_customer_messages([tickets[3].pk])  # its clock runs already
    return tickets


@pytest.mark.parametrize("way", ["one by one", "all together"])
def test_customer_messages_start_each_next_response_clock_once_alone_or_together(
    pool, customer, policies, way
):
    tickets = [t for tag in "ABCDE" for t in _answered(pool, customer, policies, tag)]
    with at(MONDAY_10 + timedelta(hours=2)):
        if way == "one by one":
            for ticket in tickets:
                follow_customer_messages([ticket.pk])
        else:
            follow_customer_messages([ticket.pk for ticket in tickets])

    clocks = {
        (number.split("-")[1], started)
        for number, started in Deadline.objects.filter(target=Target.NEXT_RESPONSE)
        .live()
        .values_list("ticket__number", "started_at")
    }
    later = MONDAY_10 + timedelta(hours=2)
    assert clocks == {
        ("answered", later),
        ("outage", later),
        ("waiting", later),
        ("running", MONDAY_10 + timedelta(minutes=5)),  # its clock ran already
    }
    assert Deadline.objects.filter(target=Target.NEXT_RESPONSE).count() == 4 * 5


def test_customer_messages_on_tickets_never_answered_cost_one_query(pool, customer, policies):
    with at(MONDAY_10):
        tickets = [_ticket(pool, customer, f"A-{n}") for n in range(20)]
    with CaptureQueriesContext(connection) as queries:
        follow_customer_messages([ticket.pk for ticket in tickets])
    assert len([q for q in queries if "SAVEPOINT" not in q["sql"]]) == 1
    assert not Deadline.objects.exists()
