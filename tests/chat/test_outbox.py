"""The chat outbox's guarantees: claimed once, lost jobs found again, stored events kept."""

from datetime import timedelta

import pytest
from django.utils import timezone

from chat import inbound, outbound
from chat.models import ChatMessage, InboundEvent
from chat.tasks import chat_sweep_task
from tests.chat.test_telegram import update
from tickets.models import Ticket
from tickets.services import add_reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket(post_hook, telegram_channel):
    post_hook(telegram_channel, update(text="Hello"))
    return Ticket.objects.get()


def test_a_row_is_claimed_by_one_worker_only(ticket, agent):
    reply = add_reply(ticket, author=agent, body="Once")  # no commit hook: no job ran
    row = ChatMessage.objects.get(message=reply)
    now = timezone.now()

    assert outbound._claim(row.pk, now) is True
    assert outbound._claim(row.pk, now) is False  # the second worker finds it taken


def test_a_reply_whose_job_was_lost_is_sent_by_the_sweep(
    ticket, agent, telegram_server, run_on_commit
):
    reply = add_reply(ticket, author=agent, body="Lost job")  # the enqueue never ran
    row = ChatMessage.objects.get(message=reply)
    ChatMessage.objects.filter(pk=row.pk).update(enqueued_at=None)

    run_on_commit(chat_sweep_task)

    row.refresh_from_db()
    assert row.state == ChatMessage.State.SENT
    assert [r["json"]["text"] for r in telegram_server.sent()] == ["Lost job"]


def test_a_job_still_in_the_broker_is_not_enqueued_twice(ticket, agent, telegram_server):
    reply = add_reply(ticket, author=agent, body="Waiting in the broker")
    ChatMessage.objects.filter(message=reply).update(enqueued_at=timezone.now())

    assert outbound.requeue_due() == []


def test_a_row_stuck_in_sending_is_claimed_again_after_ten_minutes(
    ticket, agent, telegram_server, run_on_commit
):
    reply = add_reply(ticket, author=agent, body="Worker died")
    row = ChatMessage.objects.get(message=reply)
    long_ago = timezone.now() - timedelta(minutes=11)
    ChatMessage.objects.filter(pk=row.pk).update(
        state=ChatMessage.State.SENDING, next_attempt_at=long_ago, enqueued_at=None
    )

    run_on_commit(chat_sweep_task)

    row.refresh_from_db()
    assert row.state == ChatMessage.State.SENT


def test_send_again_rearms_only_failed_rows(ticket, agent, telegram_server, run_on_commit):
    telegram_server.fail_next(
        400, {"ok": False, "error_code": 400, "description": "Bad Request: chat not found"}
    )
    failed = run_on_commit(add_reply, ticket, author=agent, body="First")
    sent = run_on_commit(add_reply, ticket, author=agent, body="Second")
    rows = ChatMessage.objects.filter(message__in=[failed, sent])

    count = run_on_commit(outbound.send_again, list(rows.values_list("pk", flat=True)))

    assert count == 1
    assert set(rows.values_list("state", flat=True)) == {"sent"}
    assert [r["json"]["text"] for r in telegram_server.sent()] == ["First", "Second", "First"]


def test_a_stored_event_whose_job_was_lost_is_processed_by_the_sweep(
    telegram_channel, run_on_commit
):
    (event_id,) = inbound.store_events(telegram_channel, update(text="Stored, never queued"))
    InboundEvent.objects.filter(pk=event_id).update(
        received_at=timezone.now() - timedelta(minutes=2)
    )

    run_on_commit(chat_sweep_task)

    assert InboundEvent.objects.get().state == InboundEvent.State.DONE
    assert Ticket.objects.get().subject == "Stored, never queued"


def test_a_failing_event_is_retried_then_kept_as_failed_with_its_error(telegram_channel):
    # A document Telegram cannot serve for now (the local server is not running here):
    # a network error, retried with back-off, then kept for an admin to process again.
    telegram_channel.api_base_url = "http://127.0.0.1:9"
    telegram_channel.save()
    payload = update(document={"file_id": "f", "file_name": "a.pdf", "mime_type": "x/y"})
    (event_id,) = inbound.store_events(telegram_channel, payload)

    for _attempt in range(inbound.MAX_ATTEMPTS):
        InboundEvent.objects.filter(pk=event_id).update(next_attempt_at=timezone.now())
        assert inbound.process_event(event_id) is False

    event = InboundEvent.objects.get()
    assert event.state == InboundEvent.State.FAILED
    assert "Network error" in event.error
    assert not Ticket.objects.exists()
    assert inbound.reprocess_events([event_id]) == 1
    assert InboundEvent.objects.get().state == InboundEvent.State.NEW
