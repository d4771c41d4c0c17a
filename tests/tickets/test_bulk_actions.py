"""Bulk actions on the queue: each ticket changed through its own service, refusals listed."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.conftest import _agent
from tests.factories import TicketFactory
from tickets import services
from tickets.bulk import may_bulk_edit
from tickets.models import ActivityLog, PoolMembership, Tag
from tickets.services.bulk import apply_bulk_action
from tickets.states import Priority, Status

URL = reverse("tickets:bulk")


def _post(client, tickets, action, **values):
    data = {"ticket": [t.pk for t in tickets], "action": action, **values}
    return client.post(URL, data)


def _texts(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def _refresh(*tickets):
    for ticket in tickets:
        ticket.refresh_from_db()


def test_assign_to_me_takes_each_ticket_and_logs_it_as_a_single_assign(agent_client, agent, pool):
    tickets = [TicketFactory(pool=pool) for _ in range(3)]
    response = _post(agent_client, tickets, "assign_me")
    assert response.status_code == 302
    _refresh(*tickets)
    assert {t.assignee_id for t in tickets} == {agent.pk}
    assert {t.status for t in tickets} == {Status.TAKEN}
    assert ActivityLog.objects.filter(action=ActivityLog.Action.ASSIGNED).count() == 3
    assert "3 tickets changed." in _texts(response)


def test_assign_to_an_agent_outside_the_tickets_pool_is_refused_per_ticket(
    agent_client, agent, pool, other_pool
):
    colleague = _agent("colleague", pools=[pool])
    mine, elsewhere = TicketFactory(pool=pool), TicketFactory(pool=other_pool)
    # The agent also works the other pool; the colleague does not.
    PoolMembership.objects.create(pool=other_pool, user=agent)
    response = _post(agent_client, [mine, elsewhere], "assign", assignee=colleague.pk)
    _refresh(mine, elsewhere)
    assert mine.assignee == colleague
    assert elsewhere.assignee is None
    texts = _texts(response)
    assert "1 ticket changed." in texts
    assert any(elsewhere.number in text and "not a member" in text for text in texts)


def test_tickets_of_pools_the_agent_is_not_in_are_refused_unread(
    agent_client, agent, pool, other_pool
):
    mine, foreign = TicketFactory(pool=pool), TicketFactory(pool=other_pool)
    response = _post(agent_client, [mine, foreign], "priority", priority=Priority.URGENT)
    _refresh(mine, foreign)
    assert mine.priority == Priority.URGENT
    assert foreign.priority == Priority.NORMAL
    texts = _texts(response)
    # Its id, never its number or subject: nothing about it leaks.
    assert any(f"#{foreign.pk}" in text and "Not found" in text for text in texts)
    assert not any(foreign.number in text for text in texts)


def test_status_follows_the_status_machine_for_each_ticket(agent_client, agent, pool):
    taken = TicketFactory(pool=pool, status=Status.TAKEN, assignee=agent)
    new = TicketFactory(pool=pool, status=Status.NEW)
    response = _post(agent_client, [taken, new], "status", status=Status.TAKEN)
    _refresh(taken, new)
    assert new.status == Status.NEW  # no technician: refused, as on its own page
    texts = _texts(response)
    assert any(new.number in text and "Assign a technician" in text for text in texts)
    assert any("Already as asked" in text and taken.number in text for text in texts)


def test_a_juniors_bulk_close_is_refused_where_a_reply_waits_for_approval(
    client, junior, pool, customer
):
    waiting = services.create_ticket(subject="Waits", pool=pool, requester=customer)
    services.add_customer_message(waiting, contact=customer, body_text="Help")
    services.assign_ticket(waiting, agent=junior, actor=junior)
    services.add_reply(waiting, author=junior, body="Draft")
    free = services.create_ticket(subject="Free", pool=pool, requester=customer)
    services.assign_ticket(free, agent=junior, actor=junior)
    client.force_login(junior)
    response = _post(client, [waiting, free], "status", status=Status.RESOLVED)
    _refresh(waiting, free)
    assert free.status == Status.RESOLVED
    assert waiting.status != Status.RESOLVED
    assert any(waiting.number in t and "waiting for approval" in t for t in _texts(response))


def test_pool_move_drops_a_technician_who_is_not_a_member_there(
    agent_client, agent, pool, other_pool
):
    PoolMembership.objects.create(pool=other_pool, user=agent)
    colleague = _agent("colleague", pools=[pool])
    ticket = TicketFactory(pool=pool, status=Status.TAKEN, assignee=colleague)
    _post(agent_client, [ticket], "pool", pool=other_pool.pk)
    ticket.refresh_from_db()
    assert ticket.pool == other_pool
    assert ticket.assignee is None


def test_tickets_move_only_to_pools_the_agent_works_in(agent_client, pool, other_pool):
    ticket = TicketFactory(pool=pool)
    response = _post(agent_client, [ticket], "pool", pool=other_pool.pk)
    ticket.refresh_from_db()
    assert ticket.pool == pool
    assert any("valid choice" in text for text in _texts(response))


def test_tags_are_added_and_removed_and_logged(agent_client, pool):
    one, two = TicketFactory(pool=pool), TicketFactory(pool=pool)
    one.tags.add(Tag.objects.create(name="old"))
    _post(agent_client, [one, two], "add_tags", tags="VIP, urgent")
    assert set(one.tags.values_list("name", flat=True)) == {"old", "vip", "urgent"}
    assert set(two.tags.values_list("name", flat=True)) == {"vip", "urgent"}
    _post(agent_client, [one, two], "remove_tags", tags="vip,old")
    assert set(one.tags.values_list("name", flat=True)) == {"urgent"}
    assert ActivityLog.objects.filter(action=ActivityLog.Action.TAG_REMOVED).count() == 3


def test_merge_moves_each_ticket_into_the_chosen_one(agent_client, agent, pool, customer):
    target = services.create_ticket(subject="Main", pool=pool, requester=customer)
    copies = [services.create_ticket(subject="Dup", pool=pool, requester=customer) for _ in "ab"]
    for ticket in copies:
        services.add_customer_message(ticket, contact=customer, body_text="Same problem")
    response = _post(agent_client, [*copies, target], "merge", target=f"#{target.number}")
    _refresh(target, *copies)
    assert all(ticket.merged_into == target for ticket in copies)
    assert all(ticket.status == Status.CLOSED for ticket in copies)
    assert target.messages.count() == 2
    assert target.merged_into is None
    assert "2 tickets changed." in _texts(response)


def test_merge_into_a_ticket_the_agent_cannot_see_changes_nothing(agent_client, pool, other_pool):
    foreign, mine = TicketFactory(pool=other_pool), TicketFactory(pool=pool)
    response = _post(agent_client, [mine], "merge", target=foreign.number)
    mine.refresh_from_db()
    assert mine.merged_into is None
    assert any("No ticket" in text for text in _texts(response))


def test_an_action_without_its_value_or_without_tickets_is_refused(agent_client, pool):
    ticket = TicketFactory(pool=pool)
    _post(agent_client, [ticket], "priority")
    ticket.refresh_from_db()
    assert ticket.priority == Priority.NORMAL
    response = agent_client.post(URL, {"action": "assign_me"})
    assert any("Select at least one ticket" in text for text in _texts(response))


def test_a_refusal_undoes_only_that_tickets_change(agent, pool, other_pool):
    """Each ticket in its own savepoint: one refusal leaves the others' changes in place."""
    colleague = _agent("colleague", pools=[pool])
    PoolMembership.objects.create(pool=other_pool, user=agent)
    tickets = [TicketFactory(pool=pool), TicketFactory(pool=other_pool), TicketFactory(pool=pool)]
    outcome = apply_bulk_action(
        [t.pk for t in tickets], action="assign", value=colleague, actor=agent
    )
    assert outcome.changed == [tickets[0].number, tickets[2].number]
    assert [number for number, _reason in outcome.refused] == [tickets[1].number]


def test_the_bulk_permission_lives_in_one_function(agent, customer_user):
    assert may_bulk_edit(agent)
    assert not may_bulk_edit(customer_user)


def test_the_queue_shows_the_bulk_bar_with_agents_by_name(agent_client, agent, pool):
    TicketFactory(pool=pool)
    page = agent_client.get(reverse("tickets:queue"), {"tab": "waiting"}).content.decode()
    assert 'id="bulk-form"' in page
    assert 'class="form-check-input bulk-check"' in page
    assert ">Agent</option>" in page
    assert ">agent</option>" not in page


@pytest.mark.parametrize("method", ["get", "put"])
def test_the_bulk_route_takes_only_posts(agent_client, method):
    assert getattr(agent_client, method)(URL).status_code == 405
