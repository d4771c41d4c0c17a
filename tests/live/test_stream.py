"""The stream: an event published in another OS process reaches a connected browser within
two seconds, on the database backend (SQLite or PostgreSQL, as the run is configured) and
on Redis; a reconnecting browser resumes; nothing leaks from a rolled-back transaction."""

import threading
import time

import pytest
from django.db import transaction

from live.models import LiveEvent
from live.publish import publish, publish_many
from tests.live.server import publish_in_another_process

pytestmark = pytest.mark.django_db(transaction=True)


def _reaches_the_stream_within_two_seconds(stream, pool, settings):
    assert stream.status == 200
    sent_at = publish_in_another_process(
        f"pool:{pool.pk}", "ticket.created", {"number": "42"}, settings=settings
    )
    event = stream.next(timeout=10)
    assert event["event"] == "ticket.created"
    assert event["topic"] == f"pool:{pool.pk}"
    assert event["data"]["number"] == "42"
    assert event["data"]["sent_at"] == sent_at
    assert event["received_at"] - sent_at < 2.0


def test_database_backend_carries_an_event_from_another_process(
    asgi_server, open_stream, agent, pool, settings
):
    settings.LIVE_REDIS_URL = ""
    stream = open_stream(asgi_server.url, user=agent)
    _reaches_the_stream_within_two_seconds(stream, pool, settings)
    assert LiveEvent.objects.filter(topic=f"pool:{pool.pk}").count() == 1


def test_redis_backend_carries_an_event_from_another_process(
    live_channel, asgi_server, open_stream, agent, pool
):
    stream = open_stream(asgi_server.url, user=agent)
    _reaches_the_stream_within_two_seconds(stream, pool, live_channel)
    assert not LiveEvent.objects.exists()


def test_many_browsers_share_one_reader_and_each_gets_the_event(
    asgi_server, open_stream, agent, pool
):
    from live.hub import _hubs

    streams = [open_stream(asgi_server.url, user=agent) for _ in range(5)]
    (hub,) = _hubs.values()
    assert len(hub.subscriptions) == 5
    publish(f"pool:{pool.pk}", "ticket.status", {"number": "7"})
    for stream in streams:
        assert stream.next()["data"] == {"number": "7"}


def _server_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name != "test-stream-reader")


def test_open_streams_hold_no_thread_each(asgi_server, open_stream, agent):
    open_stream(asgi_server.url, user=agent)  # the hub and its reader start
    before = _server_threads()
    for _ in range(10):
        open_stream(asgi_server.url, user=agent)
    assert _server_threads() - before <= 2


@pytest.mark.parametrize("backend", ["database", "redis"])
def test_a_reconnecting_browser_resumes_after_its_last_event(
    backend, asgi_server, open_stream, agent, pool, request
):
    if backend == "redis":
        request.getfixturevalue("live_channel")
    topic = f"pool:{pool.pk}"
    first = open_stream(asgi_server.url, user=agent)
    publish(topic, "ticket.message", {"n": 1})
    publish(topic, "ticket.message", {"n": 2})
    seen = [first.next(), first.next()]
    assert [event["data"]["n"] for event in seen] == [1, 2]
    # A listener keeps the hub reading while the first browser is away.
    other = open_stream(asgi_server.url, user=agent)
    first.close()
    publish(topic, "ticket.message", {"n": 3})
    assert other.next()["data"]["n"] == 3

    again = open_stream(asgi_server.url, user=agent, last_event_id=seen[0]["id"])
    assert [again.next()["data"]["n"], again.next()["data"]["n"]] == [2, 3]
    again.nothing_within(0.5)


@pytest.mark.parametrize("backend", ["database", "redis"])
def test_a_batch_of_events_arrives_in_order_with_consecutive_ids(
    backend, asgi_server, open_stream, agent, pool, request, settings
):
    # A receiver handling a batch of tickets publishes them in one call (one script call
    # on Redis): each arrives once, in order, and can be resumed from.
    if backend == "redis":
        request.getfixturevalue("live_channel")
    else:
        settings.LIVE_REDIS_URL = ""
    stream = open_stream(asgi_server.url, user=agent)
    publish_many((f"pool:{pool.pk}", "ticket.created", {"n": n}) for n in range(4))
    seen = [stream.next() for _ in range(4)]
    assert [event["data"]["n"] for event in seen] == [0, 1, 2, 3]
    ids = [int(event["id"]) for event in seen]
    assert ids == sorted(set(ids)), "each its own id, in order"
    if backend == "redis":
        assert ids == list(range(ids[0], ids[0] + 4)), "numbered together"
    stream.nothing_within(0.5)


def test_a_rolled_back_transaction_publishes_nothing(asgi_server, open_stream, agent, pool):
    stream = open_stream(asgi_server.url, user=agent)
    with pytest.raises(RuntimeError), transaction.atomic():
        publish(f"pool:{pool.pk}", "ticket.created", {"number": "rolled back"})
        raise RuntimeError
    assert not LiveEvent.objects.exists()
    publish(f"pool:{pool.pk}", "ticket.created", {"number": "committed"})
    assert stream.next()["data"]["number"] == "committed"
    stream.nothing_within(0.5)


def test_the_stream_sends_heartbeats(asgi_server, open_stream, agent, settings):
    settings.LIVE_HEARTBEAT_SECONDS = 0.2
    stream = open_stream(asgi_server.url, user=agent)
    stream.nothing_within(0.7)
    assert stream.comments.count("ping") >= 2


def test_publish_refuses_a_malformed_topic_or_data(db):
    with pytest.raises(ValueError, match="topic"):
        publish("pool 1", "ticket.created", {})
    with pytest.raises(ValueError, match="event"):
        publish("pool:1", "created", {})
    with pytest.raises(TypeError):
        publish("pool:1", "ticket.created", {"what": object()})


def test_under_a_wsgi_server_the_stream_ends_and_the_browser_resumes(client, agent, pool, settings):
    """manage.py runserver (WSGI) has no hub: a stream reads for a while, then ends."""
    settings.LIVE_REDIS_URL = ""
    settings.LIVE_WSGI_STREAM_SECONDS = 1
    publish(f"pool:{pool.pk}", "ticket.created", {"number": "before"})
    before = LiveEvent.objects.get()
    client.force_login(agent)
    response = client.get("/live/stream/", headers={"Last-Event-ID": str(before.id - 1)})
    assert response["Content-Type"] == "text/event-stream"
    body = b"".join(response.streaming_content).decode()
    assert body.startswith("retry: 2000")
    assert f"id: {before.id}" in body
    assert '"number":"before"' in body


def test_the_next_page_is_not_told_again_what_the_last_page_heard(
    asgi_server, open_stream, agent, pool
):
    """The agent leaves a page for another (for a moment nobody listens): the new page's
    stream must not repeat an event of the last few seconds that the old page received
    (a call's pop-up came back over the form the agent had opened from it)."""
    from live.hub import _hubs

    topic = f"pool:{pool.pk}"
    first = open_stream(asgi_server.url, user=agent)
    publish(topic, "call.ringing", {"call": 1})
    assert first.next()["event"] == "call.ringing"
    first.close()
    (hub,) = _hubs.values()
    deadline = time.monotonic() + 10
    while hub.has_subscribers():
        assert time.monotonic() < deadline, "the closed stream stayed subscribed"
        time.sleep(0.05)
    time.sleep(0.5)  # several polls with nobody listening
    second = open_stream(asgi_server.url, user=agent)
    assert second.nothing_within(1.5)
    publish(topic, "call.ringing", {"call": 2})
    assert second.next()["data"] == {"call": 2}
