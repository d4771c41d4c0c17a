"""Chat events reach browsers live (LIVE_SPEC.md): agents on the ticket and pool topics,
the widget visitor on their conversation's topic, opened only with their token."""

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory

from chat.models import ChatMessage, Conversation
from chat.visitor import visitor_token
from live import access
from live.models import LiveEvent
from tests.chat.test_whatsapp import status, text, webhook
from tickets.models import Ticket
from tickets.services import add_note, add_reply

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _database_backend(settings):
    settings.LIVE_REDIS_URL = ""


def _events(event):
    return {row.topic: json.loads(row.data) for row in LiveEvent.objects.filter(event=event)}


def test_a_customer_message_reaches_the_pool_the_ticket_and_the_visitor(
    post_hook, whatsapp_channel
):
    post_hook(whatsapp_channel, webhook([text("Meu pedido")]))
    ticket = Ticket.objects.get()
    conversation = Conversation.objects.get()

    events = _events("chat.message")

    agent_data = events[f"ticket:{ticket.number}"]
    assert events[f"pool:{ticket.pool_id}"] == agent_data
    assert agent_data["new_ticket"] is True and agent_data["direction"] == "in"
    assert "text" not in agent_data  # the page fetches the thread through its access check
    assert events[f"conversation:{conversation.public_key}"]["text"] == "Meu pedido"


def test_a_reply_reaches_the_visitor_but_a_note_never_does(
    post_hook, whatsapp_channel, agent, run_on_commit
):
    post_hook(whatsapp_channel, webhook([text("Oi")]))
    ticket = Ticket.objects.get()
    conversation = Conversation.objects.get()
    LiveEvent.objects.all().delete()

    run_on_commit(add_note, ticket, author=agent, body="secret note")
    run_on_commit(add_reply, ticket, author=agent, body="Olá!")

    topic = f"conversation:{conversation.public_key}"
    visitor_events = [json.loads(row.data) for row in LiveEvent.objects.filter(topic=topic)]
    assert [event["text"] for event in visitor_events] == ["Olá!"]
    assert "secret note" not in "".join(LiveEvent.objects.values_list("data", flat=True))


def test_a_read_receipt_updates_the_ticket_page(post_hook, whatsapp_channel, agent, run_on_commit):
    post_hook(whatsapp_channel, webhook([text("Oi")]))
    ticket = Ticket.objects.get()
    reply = run_on_commit(add_reply, ticket, author=agent, body="Olá!")
    row = ChatMessage.objects.get(message=reply)

    post_hook(whatsapp_channel, webhook(statuses=[status(row.platform_message_id, "read")]))

    data = _events("chat.status")[f"ticket:{ticket.number}"]
    assert data == {"ticket": ticket.number, "ids": [row.pk], "state": "read"}


def test_only_the_visitors_token_opens_their_conversation_topic(post_hook, whatsapp_channel):
    post_hook(whatsapp_channel, webhook([text("Oi")]))
    conversation = Conversation.objects.get()
    key = str(conversation.public_key)
    factory = RequestFactory()

    def topics(**params):
        request = factory.get("/live/stream/", {"conversation": key, **params})
        from django.contrib.auth.models import AnonymousUser

        request.user = AnonymousUser()
        return access.topics_for(request)

    assert topics(visitor=visitor_token(conversation)) == [f"conversation:{key}"]
    with pytest.raises(PermissionDenied):
        topics()
    with pytest.raises(PermissionDenied):
        topics(visitor="forged")
