"""Celery tasks of the chat app (queue ``chat``): thin wrappers that take ids."""

from celery import shared_task

from chat import inbound, outbound


@shared_task
def process_inbound_events_task(event_ids):
    """Apply stored webhook events in order; each is claimed, so running twice is harmless."""
    for event_id in event_ids:
        inbound.process_event(event_id)


@shared_task
def send_chat_message_task(chat_message_id):
    """Send one outbox row if it can be claimed; failures become retries or a visible failure."""
    outbound.send_chat_message(chat_message_id)


@shared_task
def chat_sweep_task():
    """Beat: re-enqueue outbox rows and webhook events whose job was lost or whose retry is due."""
    outbound.requeue_due()
    ids = inbound.due_event_ids()
    if ids:
        process_inbound_events_task.delay(ids)


@shared_task
def close_quiet_chats_task():
    """Beat (queue ``periodic``): close resolved chats whose channel's quiet time is over."""
    from chat.lifecycle import close_quiet_chats

    close_quiet_chats()
