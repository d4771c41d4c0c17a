"""A real Celery worker on Redis takes the chat queue: a webhook in, a greeting and a reply out."""

import os

import pytest

from chat.inbound import store_events
from chat.models import ChatMessage
from tests.celery_worker import probe_app, running_worker, wait_for
from tests.chat.test_whatsapp import text, webhook
from tickets.models import Ticket
from tickets.services import add_reply

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_worker_on_redis_processes_webhooks_and_sends_replies(
    tmp_path, exclusive_redis, whatsapp_channel, graph_server, agent
):
    url = exclusive_redis(os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/8"))
    whatsapp_channel.greeting = "Olá!"
    whatsapp_channel.save()
    log = tmp_path / "worker.log"
    with running_worker(url, log_path=log) as worker:
        sender = probe_app(url)
        event_ids = store_events(whatsapp_channel, webhook([text("Oi, preciso de ajuda")]))
        sender.send_task("chat.tasks.process_inbound_events_task", args=[event_ids])
        wait_for(
            lambda: ChatMessage.objects.filter(direction="out", state="sent").exists(),
            worker=worker,
            log_path=log,
            timeout=60,
            what="the webhook processed and the greeting sent",
        )
        ticket = Ticket.objects.get()
        reply = add_reply(ticket, author=agent, body="Claro!")  # committed: no test transaction
        row = ChatMessage.objects.get(message=reply)
        sender.send_task("chat.tasks.send_chat_message_task", args=[row.pk])
        wait_for(
            lambda: ChatMessage.objects.get(pk=row.pk).state == "sent",
            worker=worker,
            log_path=log,
            timeout=60,
            what="the reply sent",
        )
    bodies = [r["json"].get("text", {}).get("body") for r in graph_server.sent()]
    assert bodies.count("Olá!") == 1
    assert bodies.count("Claro!") == 1  # the job add_reply enqueued (elsewhere) and ours: once
