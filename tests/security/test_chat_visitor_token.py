"""The widget visitor's token opens one conversation's live topic, and nothing else."""

import pytest
from django.core import signing
from django.test import RequestFactory

from chat.models import ChatChannel, Conversation
from chat.visitor import conversation_key_of, may_follow_conversation, visitor_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversations(pool):
    channel = ChatChannel.objects.create(name="Site", kind="widget", pool=pool)
    return [
        Conversation.objects.create(channel=channel, external_id=f"visitor-{i}") for i in (1, 2)
    ]


def _request(**params):
    return RequestFactory().get("/live/stream/", params)


def test_a_visitor_follows_their_own_conversation_only(conversations):
    mine, theirs = conversations
    token = visitor_token(mine)

    assert may_follow_conversation(_request(visitor=token), str(mine.public_key))
    assert not may_follow_conversation(_request(visitor=token), str(theirs.public_key))
    assert not may_follow_conversation(_request(), str(mine.public_key))


def test_a_forged_or_differently_salted_token_is_refused(conversations):
    mine = conversations[0]
    other_salt = signing.dumps({"conversation": str(mine.public_key)}, salt="another.purpose")

    assert conversation_key_of(other_salt) is None
    assert conversation_key_of(visitor_token(mine) + "x") is None
    assert not may_follow_conversation(_request(visitor=other_salt), str(mine.public_key))
