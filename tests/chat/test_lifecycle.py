"""A chat's life: a resolved chat closes after the channel's quiet time; a later message
reopens it, or (past ``reopen_within_days``) starts a new ticket linked to the old one."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from chat.adapters.base import Inbound
from chat.inbound import receive
from chat.lifecycle import LATER_CHAT_REASON, QUIET_CLOSE_REASON, close_quiet_chats
from chat.models import ChatChannel, Conversation
from tickets.models import ActivityLog
from tickets.services import change_status
from tickets.states import Status

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


@pytest.fixture
def channel(pool):
    return ChatChannel.objects.create(
        name="Site chat",
        kind=ChatChannel.Kind.WIDGET,
        pool=pool,
        close_resolved_after=30,
        reopen_within_days=7,
    )


def _say(channel, text, *, chat="visitor-1", n=[0]):  # noqa: B006 (a counter on purpose)
    n[0] += 1
    return receive(channel, Inbound(chat, f"m{n[0]}", name="Ana", text=text))


def _resolve(ticket):
    return change_status(ticket, to=Status.RESOLVED, actor=None)


def test_a_resolved_chat_closes_once_the_quiet_time_is_over(channel):
    with time_machine.travel(START, tick=False) as clock:
        ticket = _say(channel, "Olá, preciso de ajuda").ticket
        _resolve(ticket)
        clock.shift(timedelta(minutes=29))
        assert close_quiet_chats() == []
        clock.shift(timedelta(minutes=2))

        closed = close_quiet_chats()

        assert [t.pk for t in closed] == [ticket.pk]
        ticket.refresh_from_db()
        assert ticket.status == Status.CLOSED
        assert Conversation.objects.get().state == Conversation.State.CLOSED
        logged = ticket.activity.get(action=ActivityLog.Action.STATUS, after=Status.CLOSED)
        assert logged.detail == QUIET_CLOSE_REASON
        assert close_quiet_chats() == []  # a second beat finds nothing to do


def test_a_channel_without_quiet_time_and_open_chats_are_left_alone(channel, pool):
    quiet = ChatChannel.objects.create(name="Telegram", kind=ChatChannel.Kind.TELEGRAM, pool=pool)
    with time_machine.travel(START, tick=False) as clock:
        untimed = _say(quiet, "Hi", chat="tg-1").ticket
        _resolve(untimed)
        still_open = _say(channel, "Still here", chat="visitor-2").ticket
        clock.shift(timedelta(days=3))

        assert close_quiet_chats() == []

    untimed.refresh_from_db()
    still_open.refresh_from_db()
    assert untimed.status == Status.RESOLVED
    assert still_open.status == Status.NEW


def test_a_customer_who_wrote_meanwhile_keeps_the_chat_open(channel):
    with time_machine.travel(START, tick=False) as clock:
        ticket = _say(channel, "First").ticket
        _resolve(ticket)
        clock.shift(timedelta(minutes=10))
        _say(channel, "One more thing")
        clock.shift(timedelta(hours=2))

        assert close_quiet_chats() == []
        ticket.refresh_from_db()
        assert ticket.status == Status.IN_PROGRESS


def test_a_message_within_the_reopen_days_reopens_the_closed_chat(channel):
    with time_machine.travel(START, tick=False) as clock:
        ticket = _say(channel, "First").ticket
        _resolve(ticket)
        clock.shift(timedelta(hours=1))
        close_quiet_chats()
        clock.shift(timedelta(days=6))

        again = _say(channel, "It broke again")

        assert again.ticket.pk == ticket.pk
        ticket.refresh_from_db()
        assert ticket.status == Status.IN_PROGRESS
        assert ticket.reopen_count == 1


def test_a_later_message_starts_a_new_ticket_linked_to_the_old_one(channel):
    with time_machine.travel(START, tick=False) as clock:
        old = _say(channel, "First").ticket
        _resolve(old)
        clock.shift(timedelta(hours=1))
        close_quiet_chats()
        clock.shift(timedelta(days=8))

        record = _say(channel, "New question")

        new = record.ticket
        assert new.pk != old.pk
        assert new.status == Status.NEW
        assert list(new.linked_tickets.all()) == [old]
        link = new.activity.get(action=ActivityLog.Action.LINKED)
        assert link.after == old.number
        assert link.detail == LATER_CHAT_REASON
        assert Conversation.objects.get().ticket == new
        old.refresh_from_db()
        assert old.status == Status.CLOSED


def test_without_reopening_every_later_message_starts_a_new_ticket(channel):
    channel.reopen_closed = False
    channel.save()
    with time_machine.travel(START, tick=False) as clock:
        old = _say(channel, "First").ticket
        _resolve(old)
        clock.shift(timedelta(minutes=5))

        new = _say(channel, "Thanks!").ticket

        assert new.pk != old.pk
        assert list(new.linked_tickets.all()) == [old]
