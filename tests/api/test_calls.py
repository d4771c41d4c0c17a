"""Calls through the API: the list and its filters, reading one, logging one by hand, and
the CTI events of a phone system on an API token (the phone app's own logic)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from people.models import ContactPhone
from phone.models import Call
from tests.factories import ContactFactory
from tickets import services

LIST = "/api/v1/calls/"
EVENTS = "/api/v1/calls/events/"


def _ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def _call(pool, number="+5511987654321", **fields):
    return Call.objects.create(pool=pool, from_number=number, customer_number=number, **fields)


@pytest.fixture
def caller(db):
    contact = ContactFactory(name="Paula Pereira")
    ContactPhone.objects.create(contact=contact, number="(11) 98765-4321")
    return contact


def test_the_list_shows_the_pools_calls_newest_first_in_cursor_pages(agent_api, pool):
    now = timezone.now()
    made = [_call(pool, started_at=now - timedelta(minutes=n)) for n in range(5)]
    seen, url = [], LIST + "?limit=2"
    while url:
        response = agent_api.get(url)
        seen += _ids(response)
        url = response.json()["next"]
    assert seen == [call.pk for call in made]


def test_the_filters_apply(agent_api, pool, agent):
    yesterday = timezone.now() - timedelta(days=1)
    wanted = _call(
        pool, number="+5511912345678", direction=Call.Direction.OUTBOUND,
        state=Call.State.ENDED, started_at=yesterday,
    )  # fmt: skip
    _call(pool, number="+48221234567")
    for params in (
        {"direction": "out"}, {"state": "ended"}, {"number": "11 91234"},
        {"number": "+55 11 91234-5678"}, {"pool": pool.pk},
        {"started_before": yesterday.date().isoformat()},
        {"started_after": yesterday.date().isoformat(), "state": ["ended", "missed"]},
    ):  # fmt: skip
        ids = _ids(agent_api.get(LIST, params))
        assert wanted.pk in ids, params
        if "pool" not in params:
            assert ids == [wanted.pk], params


@pytest.mark.parametrize(
    "params",
    [{"direction": "sideways"}, {"state": "asleep"}, {"started_after": "yesterday"},
     {"agent__password": "x"}, {"ordering": "-notes"}, {"cursor": "nonsense"}],
)  # fmt: skip
def test_bad_filters_are_refused_with_a_clear_message(agent_api, params):
    response = agent_api.get(LIST, params)
    assert response.status_code == 400
    assert response.json()["detail"]


def test_a_call_is_read_with_its_contact_agent_and_ticket(agent_api, pool, agent, caller):
    ticket = services.create_ticket(subject="Router", pool=pool, requester=caller)
    call = _call(pool, contact=caller, agent=agent, ticket=ticket, notes="Asked for a visit")
    body = agent_api.get(f"{LIST}{call.pk}/").json()
    assert body["contact"] == {"id": caller.pk, "name": "Paula Pereira"}
    assert body["agent"]["id"] == agent.pk and body["ticket"] == ticket.number
    assert body["pool"] == {"id": pool.pk, "name": pool.name}
    assert body["notes"] == "Asked for a visit"


def test_list_and_read_have_fixed_query_counts(
    agent_api, pool, agent, caller, django_assert_max_num_queries
):
    def queries_for(count):
        for _ in range(count):
            ticket = services.create_ticket(subject="x", pool=pool, requester=caller)
            _call(pool, contact=caller, agent=agent, ticket=ticket)
        agent_api.get(LIST)  # the token's last use is written once a minute

    queries_for(3)
    # The token, its owner's permissions, its pools, the page's ids, the calls, their
    # tickets.
    with django_assert_max_num_queries(6) as small:
        agent_api.get(LIST)
    queries_for(20)
    with django_assert_max_num_queries(6) as large:
        assert len(_ids(agent_api.get(LIST))) == 23
    assert len(small.captured_queries) == len(large.captured_queries)
    url = f"{LIST}{Call.objects.first().pk}/"
    with django_assert_max_num_queries(5):
        assert agent_api.get(url).json()["ticket"]


def test_an_agent_logs_a_call_by_hand(agent_api, agent, pool, caller):
    response = agent_api.post(
        LIST,
        {"pool": pool.pk, "number": "(11) 98765-4321", "direction": "in", "notes": "Visit"},
        format="json",
    )
    assert response.status_code == 201, response.content
    call = Call.objects.get()
    assert response.json()["id"] == call.pk
    assert (call.agent, call.contact, call.state) == (agent, caller, Call.State.ENDED)
    assert call.customer_number == "+5511987654321" and call.integration is None


def test_an_unreadable_number_is_a_400_naming_the_field(agent_api, pool):
    response = agent_api.post(LIST, {"pool": pool.pk, "number": "12"}, format="json")
    assert response.status_code == 400
    assert not Call.objects.exists()


def test_cti_events_ring_answer_and_hang_up_one_call(agent_api, pool, agent, caller):
    new = {"event": "new", "call_id": "c-1", "from_number": "11987654321", "to_number": "4000"}
    response = agent_api.post(EVENTS, {**new, "pool": pool.pk}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "ringing" and body["contact"]["id"] == caller.pk
    assert agent_api.post(EVENTS, {**new, "pool": pool.pk}, format="json").status_code == 200
    answer = {"event": "answered", "call_id": "c-1", "pool": pool.pk, "agent": agent.username}
    assert agent_api.post(EVENTS, answer, format="json").json()["state"] == "answered"
    hangup = {"event": "hangup", "call_id": "c-1", "pool": pool.pk}
    assert agent_api.post(EVENTS, hangup, format="json").json()["state"] == "ended"
    call = Call.objects.get()
    assert call.agent == agent and call.answered_at and call.ended_at
    assert call.integration is None and call.pool == pool


def test_a_hang_up_first_still_makes_one_missed_call(agent_api, pool):
    for event in ("hangup", "new"):
        data = {"event": event, "call_id": "c-2", "from_number": "11987654321", "pool": pool.pk}
        assert agent_api.post(EVENTS, data, format="json").status_code == 200
    assert Call.objects.get().state == Call.State.MISSED


def test_a_token_of_one_pool_may_leave_the_pool_out(agent, pool, make_token, api_client):
    client = api_client(make_token(agent, pools=[pool]))
    response = client.post(EVENTS, {"event": "new", "call_id": "c-3"}, format="json")
    assert response.status_code == 200, response.content
    assert Call.objects.get().pool == pool


def test_a_token_of_several_pools_must_name_one(
    supervisor, make_token, api_client, pool, other_pool
):
    client = api_client(make_token(supervisor))
    response = client.post(EVENTS, {"event": "new", "call_id": "c-4"}, format="json")
    assert response.status_code == 400
    assert "pool" in response.json()["errors"]


@pytest.mark.parametrize(
    "data",
    [{"event": "dance", "call_id": "x"}, {"event": "new"}, {"event": "new", "call_id": "x" * 101},
     {"event": "new", "call_id": "x", "direction": "sideways"}],
)  # fmt: skip
def test_malformed_events_are_refused(agent_api, pool, data):
    response = agent_api.post(EVENTS, {**data, "pool": pool.pk}, format="json")
    assert response.status_code == 400
    assert not Call.objects.exists()


def test_a_new_incoming_call_by_api_is_a_webhook_event(
    agent_api, pool, admin_user, settings, django_capture_on_commit_callbacks
):
    from webhooks.models import Delivery
    from webhooks.services import create_endpoint

    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    create_endpoint(
        name="CRM", url="http://127.0.0.1:9/hook", events=["call.received"], pools=[pool],
        active=True, actor=admin_user,
    )  # fmt: skip
    data = {"event": "new", "call_id": "c-5", "from_number": "11987654321", "pool": pool.pk}
    with django_capture_on_commit_callbacks(execute=True):
        agent_api.post(EVENTS, data, format="json")
        agent_api.post(EVENTS, {**data, "event": "hangup"}, format="json")
    assert Delivery.objects.filter(event="call.received").count() == 1
