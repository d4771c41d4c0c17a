"""Tags on single messages: added and removed on a bubble (or a mail message), logged."""

import pytest
from django.urls import reverse

from chat.adapters.base import Inbound
from chat.inbound import receive
from chat.models import ChatChannel
from tickets.models import ActivityLog, MessageTag, Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def message(pool):
    channel = ChatChannel.objects.create(name="Site", kind=ChatChannel.Kind.WIDGET, pool=pool)
    return receive(channel, Inbound("v-1", "m-1", name="Ana", text="Card declined")).message


def _add(client, message, name, **headers):
    url = reverse("tickets:message_tag_add", args=[message.ticket.number, message.pk])
    return client.post(url, {"name": name}, **headers)


def test_an_agent_tags_a_message_on_the_chat_thread(agent_client, agent, message):
    response = _add(agent_client, message, " Payment Issue ", HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert "payment-issue" in response.content.decode()
    row = MessageTag.objects.get()
    assert (row.message, row.tag.name, row.added_by) == (message, "payment-issue", agent)
    logged = message.ticket.activity.get(action=ActivityLog.Action.TAG_ADDED)
    assert logged.after == "payment-issue"
    assert logged.detail == f"message #{message.pk}"
    page = agent_client.get(message.ticket.get_absolute_url()).content.decode()
    assert f'id="message-tags-{message.pk}"' in page
    assert "payment-issue" in page


def test_the_same_tag_twice_is_one_tag_and_an_empty_name_is_refused(agent_client, message):
    _add(agent_client, message, "vip")
    _add(agent_client, message, "VIP")
    response = _add(agent_client, message, "!!!", HTTP_HX_REQUEST="true")

    assert response.status_code == 400
    assert "message-tag-error" in response.content.decode()
    assert list(MessageTag.objects.values_list("tag__name", flat=True)) == ["vip"]


def test_an_agent_removes_a_tag_from_a_message(agent_client, message):
    _add(agent_client, message, "vip")
    tag = Tag.objects.get(name="vip")
    url = reverse("tickets:message_tag_remove", args=[message.ticket.number, message.pk, tag.pk])

    response = agent_client.post(url, HTTP_HX_REQUEST="true")

    assert response.status_code == 200
    assert not MessageTag.objects.exists()
    assert message.ticket.activity.filter(action=ActivityLog.Action.TAG_REMOVED).count() == 1


def test_a_message_of_another_ticket_cannot_be_tagged_through_this_one(agent_client, message, pool):
    channel = ChatChannel.objects.get()
    other = receive(channel, Inbound("v-2", "m-2", name="Bo", text="Hello")).message
    url = reverse("tickets:message_tag_add", args=[message.ticket.number, other.pk])

    assert agent_client.post(url, {"name": "x"}).status_code == 404
    assert not MessageTag.objects.exists()
