"""The live stream never hands a browser a topic it may not see: an agent outside a pool
gets neither the pool's events nor its tickets', and cannot ask for them; customers and
strangers get nothing of the agents'."""

# ruff: noqa: F811 (the ASGI server fixtures are imported, then asked for by name)

import time

import pytest

from live import access
from live.publish import publish
from tests.factories import PoolFactory
from tests.live.server import asgi_server, open_stream  # noqa: F401
from tickets.services import create_ticket

pytestmark = pytest.mark.django_db(transaction=True)


def _next_sent(stream):
    """The next event this test published itself (marked "sent")."""
    while "sent" not in (event := stream.next())["data"]:
        pass
    return event


@pytest.fixture(autouse=True)
def _database_backend(settings):
    settings.LIVE_REDIS_URL = ""


def test_an_agent_outside_the_pool_receives_none_of_its_events(
    asgi_server, open_stream, agent, other_agent, pool, other_pool, customer
):
    ticket = create_ticket(subject="Salary data", pool=pool, requester=customer)
    outsider = open_stream(asgi_server.url, user=other_agent)
    insider = open_stream(asgi_server.url, user=agent, params=f"ticket={ticket.number}")
    publish(f"pool:{pool.pk}", "ticket.created", {"number": ticket.number, "sent": 1})
    publish(f"ticket:{ticket.number}", "ticket.message", {"number": ticket.number, "sent": 2})
    publish(f"pool:{other_pool.pk}", "ticket.created", {"number": "theirs"})
    # The outsider's first event is their own pool's: the two before it never came.
    assert outsider.next()["data"] == {"number": "theirs"}
    outsider.nothing_within(0.5)
    # The insider may first hear create_ticket's own events (a browser that connects to an
    # idle stream server is told what was published in the seconds before); then ours.
    heard = [_next_sent(insider), _next_sent(insider)]
    assert [event["topic"] for event in heard] == [f"pool:{pool.pk}", f"ticket:{ticket.number}"]


def test_an_agent_cannot_subscribe_to_a_ticket_outside_their_pools(
    asgi_server, open_stream, other_agent, pool, customer
):
    ticket = create_ticket(subject="Salary data", pool=pool, requester=customer)
    stream = open_stream(asgi_server.url, user=other_agent, params=f"ticket={ticket.number}")
    assert stream.status == 403


def test_strangers_and_customers_get_no_agent_topics(
    asgi_server, open_stream, customer_user, pool, customer
):
    ticket = create_ticket(subject="Mine", pool=pool, requester=customer)
    assert open_stream(asgi_server.url).status == 403
    assert open_stream(asgi_server.url, params=f"ticket={ticket.number}").status == 403
    # A customer signed in to the portal follows only their own user topic.
    assert access.default_topics(customer_user) == [f"user:{customer_user.pk}"]
    stream = open_stream(asgi_server.url, user=customer_user, params=f"ticket={ticket.number}")
    assert stream.status == 403


def test_topics_follow_pool_membership_and_see_all_pools(agent, supervisor, pool, other_pool, rf):
    assert access.default_topics(agent) == [f"user:{agent.pk}", f"pool:{pool.pk}"]
    later = PoolFactory(name="Later")
    assert set(access.default_topics(supervisor)) == {
        f"user:{supervisor.pk}",
        f"pool:{pool.pk}",
        f"pool:{other_pool.pk}",
        f"pool:{later.pk}",
    }


def test_a_registered_rule_decides_its_own_topics(rf, agent, monkeypatch):
    monkeypatch.setattr(access, "_rules", dict(access._rules))
    access.register("conversation", lambda request, key: request.GET.get("token") == "good")
    request = rf.get("/live/stream/", {"conversation": "abc", "token": "good"})
    request.user = agent
    assert "conversation:abc" in access.topics_for(request)
    request = rf.get("/live/stream/", {"conversation": "abc", "token": "bad"})
    request.user = agent
    with pytest.raises(access.PermissionDenied):
        access.topics_for(request)
    with pytest.raises(ValueError, match="pool"):
        access.register("pool", lambda request, key: True)


def test_a_stream_ends_so_that_its_topics_are_authorised_again(
    asgi_server, open_stream, agent, pool, settings
):
    settings.LIVE_STREAM_MAX_SECONDS = 0.5
    settings.LIVE_HEARTBEAT_SECONDS = 0.2
    stream = open_stream(asgi_server.url, user=agent)
    deadline = time.monotonic() + 5
    while stream.response.fp is not None and not stream.ended.is_set():
        assert time.monotonic() < deadline, "the stream did not end"
        time.sleep(0.05)
