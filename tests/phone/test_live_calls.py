"""A PBX event becomes one live event on the pool's topic; a repeat publishes nothing."""

import json

import pytest

from live.models import LiveEvent

pytestmark = pytest.mark.django_db(transaction=True)

NEW = {
    "event": "newCall",
    "from": "(11) 98765-4321",
    "to": "4000",
    "direction": "in",
    "callId": "c-1",
}


@pytest.fixture(autouse=True)
def _database_backend(settings):
    settings.LIVE_REDIS_URL = ""


def post(client, pbx, **changes):
    return client.post(
        "/phone/cti/",
        json.dumps(NEW | changes),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {pbx.token}",
    )


def events():
    return [(e.topic, e.event, json.loads(e.data)) for e in LiveEvent.objects.order_by("id")]


def test_a_ringing_call_reaches_its_pool_once(client, pbx, caller):
    call_id = post(client, pbx).json()["call"]
    post(client, pbx)
    data = {"call": call_id, "number": "+55 11 98765-4321", "known": True, "state": "ringing"}
    assert events() == [(f"pool:{pbx.pool_id}", "call.ringing", data)]


def test_answered_and_ended_follow_once_each(client, pbx):
    post(client, pbx)
    for event in ("answer", "answer", "hangup", "hangup"):
        post(client, pbx, event=event)
    assert [event for _topic, event, _data in events()] == [
        "call.ringing",
        "call.answered",
        "call.ended",
    ]


def test_outgoing_calls_do_not_pop_up(client, pbx):
    post(client, pbx, direction="out", to="11987654321", **{"from": "4000"})
    assert events() == []
