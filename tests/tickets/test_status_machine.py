import pytest
from django.core.exceptions import ValidationError

from tickets import services
from tickets.models import ActivityLog
from tickets.signals import statuses_changed
from tickets.states import TRANSITIONS, Status


@pytest.fixture
def ticket(pool, customer):
    return services.create_ticket(subject="Printer on fire", pool=pool, requester=customer)


def test_new_ticket_gets_a_year_number_and_a_created_entry(ticket):
    assert ticket.number.startswith(f"{ticket.created_at.year}-")
    assert len(ticket.number.split("-")[1]) == 6
    assert ticket.status == Status.NEW
    assert list(ticket.activity.values_list("action", flat=True)) == ["created"]


def test_ticket_numbers_increase_one_by_one(pool, customer):
    first = services.create_ticket(subject="a", pool=pool, requester=customer)
    second = services.create_ticket(subject="b", pool=pool, requester=customer)
    assert int(second.number[-6:]) == int(first.number[-6:]) + 1


def test_every_allowed_transition_writes_before_and_after(ticket, agent):
    ticket = services.assign_ticket(ticket, agent=agent, actor=agent)
    ticket = services.change_status(ticket, to=Status.IN_PROGRESS, actor=agent, reason="on it")
    entry = ticket.activity.filter(action=ActivityLog.Action.STATUS).last()
    assert (entry.before, entry.after, entry.actor, entry.detail) == (
        Status.TAKEN,
        Status.IN_PROGRESS,
        agent,
        "on it",
    )


def test_forbidden_transition_is_refused_and_logs_nothing(ticket, agent):
    services.change_status(ticket, to=Status.CANCELLED, actor=agent)
    count = ActivityLog.objects.count()
    with pytest.raises(ValidationError):
        services.change_status(ticket, to=Status.IN_PROGRESS, actor=agent)
    ticket.refresh_from_db()
    assert ticket.status == Status.CANCELLED
    assert ActivityLog.objects.count() == count


def test_taken_requires_a_technician(ticket, agent):
    with pytest.raises(ValidationError):
        services.change_status(ticket, to=Status.TAKEN, actor=agent)


def test_cancelled_is_final():
    assert TRANSITIONS[Status.CANCELLED] == frozenset()


def test_resolving_and_closing_set_their_timestamps(ticket, agent):
    ticket = services.change_status(ticket, to=Status.RESOLVED, actor=agent)
    assert ticket.resolved_at is not None
    ticket = services.change_status(ticket, to=Status.CLOSED, actor=agent)
    assert ticket.closed_at is not None


def test_reopening_a_closed_ticket_counts_and_clears_closing_times(ticket, agent):
    services.change_status(ticket, to=Status.CLOSED, actor=agent)
    ticket = services.change_status(ticket, to=Status.IN_PROGRESS, actor=agent)
    assert ticket.reopen_count == 1
    assert ticket.closed_at is None
    assert ticket.activity.filter(action=ActivityLog.Action.REOPENED).count() == 1


def test_customer_message_on_closed_ticket_reopens_it(ticket, agent, customer):
    services.change_status(ticket, to=Status.CLOSED, actor=agent)
    services.add_customer_message(ticket, contact=customer, body_text="Still broken")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.reopen_count == 1


def test_status_signal_fires_after_commit_only(ticket, agent, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, **kwargs):
        received.extend((change.before, change.after) for change in kwargs["changes"])

    statuses_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            services.change_status(ticket, to=Status.IN_PROGRESS, actor=agent)
        assert received == []
        for callback in callbacks:
            callback()
        assert received == [(Status.NEW, Status.IN_PROGRESS)]
    finally:
        statuses_changed.disconnect(receiver)


def test_moving_back_to_new_returns_the_ticket_to_the_pool(ticket, agent):
    ticket = services.assign_ticket(ticket, agent=agent, actor=agent)
    ticket = services.change_status(ticket, to=Status.NEW, actor=agent)
    assert ticket.assignee is None
