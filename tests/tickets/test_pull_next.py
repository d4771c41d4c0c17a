from datetime import timedelta

import pytest
from django.utils import timezone

from tests.concurrency import run_at_once
from tests.conftest import _agent, require_postgresql
from tests.factories import PoolFactory, TicketFactory
from tickets.models import ActivityLog, PoolMembership, Ticket
from tickets.services import pull_next_ticket
from tickets.states import Priority, Status


def _waiting(pool, *, minutes_ago, priority=Priority.NORMAL):
    return TicketFactory(
        pool=pool, priority=priority, created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )


def test_next_ticket_gives_the_oldest_waiting_ticket(agent, pool):
    _waiting(pool, minutes_ago=5)
    oldest = _waiting(pool, minutes_ago=50)
    ticket = pull_next_ticket(agent=agent)
    assert ticket.pk == oldest.pk
    oldest.refresh_from_db()
    assert (oldest.assignee, oldest.status) == (agent, Status.TAKEN)
    assert oldest.activity.filter(action=ActivityLog.Action.PULLED, actor=agent).exists()


def test_higher_priority_comes_before_age(agent, pool):
    _waiting(pool, minutes_ago=500)
    urgent = _waiting(pool, minutes_ago=1, priority=Priority.URGENT)
    assert pull_next_ticket(agent=agent).pk == urgent.pk


def test_pools_are_pulled_in_the_agents_pull_priority_order(agent, pool, other_pool):
    PoolMembership.objects.create(pool=other_pool, user=agent, pull_priority=0)
    _waiting(pool, minutes_ago=500, priority=Priority.URGENT)
    preferred = _waiting(other_pool, minutes_ago=1, priority=Priority.LOW)
    assert pull_next_ticket(agent=agent).pk == preferred.pk


def test_next_ticket_never_reaches_outside_the_agents_pools(agent, other_pool):
    _waiting(other_pool, minutes_ago=10)
    assert pull_next_ticket(agent=agent) is None


def test_assigned_or_closed_tickets_are_not_handed_out(agent, pool, other_agent):
    TicketFactory(pool=pool, status=Status.TAKEN, assignee=agent)
    TicketFactory(pool=pool, status=Status.CLOSED)
    assert pull_next_ticket(agent=agent) is None


def test_absent_agent_gets_nothing(agent, pool, make_absence):
    _waiting(pool, minutes_ago=10)
    make_absence(agent)
    assert pull_next_ticket(agent=agent) is None


def test_substitute_pulls_the_absent_agents_waiting_work_first(agent, pool, make_absence):
    substitute = _agent("substitute", pools=[PoolFactory(name="Elsewhere")])
    parked = TicketFactory(pool=pool, status=Status.TAKEN, assignee=agent)
    make_absence(agent, substitute=substitute)
    ticket = pull_next_ticket(agent=substitute)
    assert ticket.pk == parked.pk
    parked.refresh_from_db()
    assert parked.assignee == substitute


def test_a_finished_absence_gives_the_substitute_nothing(agent, pool, make_absence):
    substitute = _agent("substitute")
    TicketFactory(pool=pool, status=Status.TAKEN, assignee=agent)
    past = timezone.now() - timedelta(days=2)
    make_absence(agent, substitute=substitute, starts_at=past - timedelta(days=1), ends_at=past)
    assert pull_next_ticket(agent=substitute) is None


def test_each_call_hands_out_a_different_ticket(agent, junior, pool):
    tickets = [_waiting(pool, minutes_ago=m) for m in (3, 2, 1)]
    pulled = [pull_next_ticket(agent=a) for a in (agent, junior, agent, junior)]
    assert sorted(t.pk for t in pulled[:3]) == sorted(t.pk for t in tickets)
    assert pulled[3] is None


def _pull_concurrently(agents):
    """Every agent presses Next ticket at the same moment, each on its own connection."""

    def press(user):
        ticket = pull_next_ticket(agent=user)
        return ticket.pk if ticket else None

    pulled = run_at_once([lambda user=user: press(user) for user in agents])
    return {user.pk: pk for user, pk in zip(agents, pulled, strict=True)}


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("waiting", [80, 20])
def test_fifty_concurrent_next_ticket_calls_never_hand_out_a_ticket_twice(waiting):
    require_postgresql()
    pool = PoolFactory(name="Busy")
    agents = [_agent(f"racer{n}", pools=[pool]) for n in range(50)]
    for minutes in range(waiting):
        _waiting(pool, minutes_ago=minutes)
    results = _pull_concurrently(agents)
    handed_out = [pk for pk in results.values() if pk is not None]
    assert len(handed_out) == len(set(handed_out)) == min(50, waiting)
    assert Ticket.objects.filter(status=Status.TAKEN).count() == min(50, waiting)
    owners = dict(Ticket.objects.filter(status=Status.TAKEN).values_list("pk", "assignee_id"))
    assert {results[a.pk]: a.pk for a in agents if results[a.pk]} == owners


@pytest.mark.django_db(transaction=True)
def test_concurrent_next_ticket_is_safe_on_every_database():
    pool = PoolFactory(name="Busy")
    agents = [_agent(f"racer{n}", pools=[pool]) for n in range(8)]
    for minutes in range(5):
        _waiting(pool, minutes_ago=minutes)
    results = _pull_concurrently(agents)
    handed_out = [pk for pk in results.values() if pk is not None]
    assert len(handed_out) == len(set(handed_out)) == 5
