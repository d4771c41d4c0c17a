import json

import pytest
from django.urls import reverse

from phone.models import Call, PbxIntegration

URL = "/phone/cti/"


def post(client, data, *, token=None, header=True):
    kwargs = {}
    url = URL
    if token is not None and header:
        kwargs["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    elif token is not None:
        url = f"{URL}?token={token}"
    return client.post(url, json.dumps(data), content_type="application/json", **kwargs)


NEW = {
    "event": "newCall",
    "from": "(11) 98765-4321",
    "to": "4000",
    "direction": "in",
    "callId": "c-1",
}


def test_the_route_is_named():
    assert reverse("phone:cti") == URL


def test_a_new_call_from_a_known_number_is_matched_to_its_contact(client, pbx, caller):
    response = post(client, NEW, token=pbx.token)
    assert response.status_code == 200
    call = Call.objects.get()
    assert response.json() == {"call": call.pk, "state": "ringing", "contact": caller.pk}
    assert call.customer_number == "+5511987654321"
    assert call.pool == pbx.pool
    assert call.integration == pbx


def test_the_token_may_come_in_the_query_string(client, pbx):
    assert post(client, NEW, token=pbx.token, header=False).status_code == 200


def test_form_encoded_events_work_too(client, pbx):
    response = client.post(URL, NEW, HTTP_AUTHORIZATION=f"Bearer {pbx.token}")
    assert response.status_code == 200
    assert Call.objects.get().call_id == "c-1"


@pytest.mark.parametrize("token", [None, "", "pbx_wrong", "Bearer"])
def test_a_missing_or_wrong_token_is_refused_with_401(client, pbx, token):
    response = post(client, NEW, token=token)
    assert response.status_code == 401
    assert "error" in response.json()
    assert not Call.objects.exists()


def test_a_revoked_integration_is_refused_with_403(client, pbx):
    PbxIntegration.objects.filter(pk=pbx.pk).update(revoked=True)
    response = post(client, NEW, token=pbx.token)
    assert response.status_code == 403
    assert response.json()["error"]
    assert not Call.objects.exists()


def test_a_rotated_token_replaces_the_old_one(client, pbx):
    from phone.services import rotate_token

    new = rotate_token(pbx)
    assert post(client, NEW, token=pbx.token).status_code == 401
    assert post(client, NEW, token=new).status_code == 200


def test_the_last_use_is_recorded(client, pbx):
    post(client, NEW, token=pbx.token)
    pbx.refresh_from_db()
    assert pbx.last_used_at is not None
    assert pbx.last_used_from == "127.0.0.1"


def test_repeated_events_change_nothing_the_second_time(client, pbx, agent):
    for _ in range(2):
        assert post(client, NEW, token=pbx.token).status_code == 200
    call = Call.objects.get()
    answer = {**NEW, "event": "answer", "user": agent.username}
    for _ in range(2):
        post(client, answer, token=pbx.token)
    call.refresh_from_db()
    answered_at = call.answered_at
    assert call.state == Call.State.ANSWERED and call.agent == agent
    for _ in range(2):
        post(client, {**NEW, "event": "hangup"}, token=pbx.token)
    call.refresh_from_db()
    assert Call.objects.count() == 1
    assert call.state == Call.State.ENDED
    assert call.answered_at == answered_at
    ended_at = call.ended_at
    post(client, {**NEW, "event": "hangup"}, token=pbx.token)
    call.refresh_from_db()
    assert call.ended_at == ended_at


def test_a_call_hung_up_unanswered_is_missed(client, pbx):
    post(client, NEW, token=pbx.token)
    post(client, {**NEW, "event": "hangup"}, token=pbx.token)
    assert Call.objects.get().state == Call.State.MISSED


def test_a_hang_up_before_the_new_call_still_makes_one_call(client, pbx):
    post(client, {**NEW, "event": "hangup"}, token=pbx.token)
    post(client, NEW, token=pbx.token)
    call = Call.objects.get()
    assert call.state == Call.State.MISSED


def test_the_same_call_id_on_two_pbxes_is_two_calls(client, pbx, other_pool):
    from phone.services import create_integration

    _other, token = create_integration(name="Branch PBX", pool=other_pool)
    post(client, NEW, token=pbx.token)
    post(client, NEW, token=token)
    assert Call.objects.count() == 2


def test_an_outgoing_call_is_matched_by_its_destination(client, pbx, caller):
    data = {
        "event": "newCall",
        "from": "4000",
        "to": "11987654321",
        "direction": "out",
        "callId": "o-1",
    }
    post(client, data, token=pbx.token)
    call = Call.objects.get()
    assert call.direction == Call.Direction.OUTBOUND
    assert call.contact == caller


@pytest.mark.parametrize(
    "data",
    [
        {"event": "dance", "callId": "x"},
        {"event": "newCall"},
        {"event": "newCall", "callId": "x", "direction": "sideways"},
        {"event": "newCall", "callId": "x" * 101},
    ],
)
def test_malformed_events_are_refused_with_400(client, pbx, data):
    response = post(client, data, token=pbx.token)
    assert response.status_code == 400
    assert response.json()["error"]


def test_a_body_that_is_not_an_object_is_refused(client, pbx):
    response = client.post(
        URL, "[1, 2]", content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {pbx.token}"
    )
    assert response.status_code == 400


def test_get_is_not_allowed(client, pbx):
    assert client.get(URL, HTTP_AUTHORIZATION=f"Bearer {pbx.token}").status_code == 405


def test_only_the_digest_of_the_token_is_stored(pbx):
    row = PbxIntegration.objects.values().get(pk=pbx.pk)
    assert pbx.token not in json.dumps(row, default=str)


def test_the_service_reports_what_happened_once(pbx):
    from phone.services import CtiEvent, record_cti_event

    new = CtiEvent(event="new", call_id="n-1", from_number="11987654321")
    assert record_cti_event(pbx, new)[1] == ["call.ringing"]
    assert record_cti_event(pbx, new)[1] == []
    answered = CtiEvent(event="answered", call_id="n-1")
    assert record_cti_event(pbx, answered)[1] == ["call.answered"]
    assert record_cti_event(pbx, answered)[1] == []
    ended = CtiEvent(event="hangup", call_id="n-1")
    assert record_cti_event(pbx, ended)[1] == ["call.ended"]
    assert record_cti_event(pbx, ended)[1] == []
