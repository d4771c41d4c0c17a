"""The visitor sees the agent typing: the reply form's signal becomes a live event on the
visitor's conversation topic, throttled, with the agent's first name and an expiry."""

import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from chat import typing
from chat.adapters.base import Inbound
from chat.inbound import receive
from chat.models import ChatChannel, Conversation
from live.models import LiveEvent
from tests.factories import TicketFactory
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _database_live_backend(settings):
    settings.LIVE_REDIS_URL = ""
    cache.clear()


def _typing_events():
    return [
        (row.topic, json.loads(row.data))
        for row in LiveEvent.objects.filter(event=typing.EVENT).order_by("pk")
    ]


@pytest.fixture
def widget_ticket(visitor, run_on_commit):
    run_on_commit(visitor.send, "Where is my order?")
    return Ticket.objects.get()


def test_the_agents_first_name_reaches_the_visitors_topic(widget_ticket, agent, run_on_commit):
    agent.last_name = "Surname-Not-Shown"
    agent.save()

    assert run_on_commit(typing.agent_typing, widget_ticket, user=agent) is True

    conversation = Conversation.objects.get()
    assert _typing_events() == [
        (
            f"conversation:{conversation.public_key}",
            {"name": "Agent", "expires_in": typing.SHOWN_FOR_SECONDS},
        )
    ]
    assert not LiveEvent.objects.filter(topic__startswith="ticket:", event=typing.EVENT).exists()


def test_an_agent_without_a_first_name_is_sent_with_no_name(widget_ticket, agent, run_on_commit):
    agent.first_name = ""
    agent.save()

    run_on_commit(typing.agent_typing, widget_ticket, user=agent)

    assert _typing_events()[0][1]["name"] == ""


def test_keystrokes_within_the_window_send_one_event(widget_ticket, agent, run_on_commit):
    for _ in range(5):
        run_on_commit(typing.agent_typing, widget_ticket, user=agent)

    assert len(_typing_events()) == 1


def test_each_agent_has_their_own_window(widget_ticket, agent, supervisor, run_on_commit):
    run_on_commit(typing.agent_typing, widget_ticket, user=agent)
    run_on_commit(typing.agent_typing, widget_ticket, user=supervisor)

    assert [data["name"] for _, data in _typing_events()] == ["Agent", "Supervisor"]


def test_the_window_reopens_after_its_seconds(widget_ticket, agent, run_on_commit):
    run_on_commit(typing.agent_typing, widget_ticket, user=agent)
    cache.delete(f"chat-agent-typing:{widget_ticket.pk}:{agent.pk}")  # as if 2 s went by

    assert run_on_commit(typing.agent_typing, widget_ticket, user=agent) is True
    assert len(_typing_events()) == 2


def test_a_mail_ticket_and_a_telegram_chat_get_no_event(pool, agent, run_on_commit):
    mail_ticket = TicketFactory(pool=pool)
    telegram = ChatChannel.objects.create(name="Bot", kind=ChatChannel.Kind.TELEGRAM, pool=pool)
    chat = receive(telegram, Inbound(external_id="42", platform_message_id="1", text="Oi"))

    assert run_on_commit(typing.agent_typing, mail_ticket, user=agent) is False
    cache.clear()
    assert run_on_commit(typing.agent_typing, chat.ticket, user=agent) is False
    assert _typing_events() == []


# --- the view the reply form posts to ------------------------------------------------------


def test_the_reply_form_signal_answers_204_and_publishes(
    widget_ticket, client, agent, run_on_commit
):
    client.force_login(agent)
    url = reverse("chat:agent_typing", args=[widget_ticket.number])

    response = run_on_commit(client.post, url)

    assert response.status_code == 204
    assert len(_typing_events()) == 1


def test_the_signal_is_a_post(widget_ticket, client, agent):
    client.force_login(agent)

    response = client.get(reverse("chat:agent_typing", args=[widget_ticket.number]))

    assert response.status_code == 405
    assert _typing_events() == []


def test_a_widget_ticket_page_loads_the_typing_script_on_its_reply_form_only(
    widget_ticket, client, agent
):
    client.force_login(agent)

    page = client.get(widget_ticket.get_absolute_url()).content.decode()

    url = reverse("chat:agent_typing", args=[widget_ticket.number])
    assert f'src="/static/chat/agent_typing.js" data-url="{url}"' in page
    # The note form is another form: the script listens to #reply-form's body only.
    assert 'id="reply-form"' in page


def test_a_telegram_ticket_page_does_not_load_it(pool, client, agent):
    telegram = ChatChannel.objects.create(name="Bot", kind=ChatChannel.Kind.TELEGRAM, pool=pool)
    chat = receive(telegram, Inbound(external_id="42", platform_message_id="1", text="Oi"))
    client.force_login(agent)

    page = client.get(chat.ticket.get_absolute_url()).content.decode()

    assert "agent_typing.js" not in page


def test_the_widget_gets_the_typing_words_in_its_language(visitor):
    english = visitor.get("config", lang="en").json()["strings"]

    assert english["agent_typing"] == "%(name)s is typing…"
    assert english["agent_typing_unnamed"] == "An agent is typing…"
