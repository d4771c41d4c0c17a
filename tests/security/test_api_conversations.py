"""The API's conversation endpoints: a contact reaches only their own conversation, a
contact token opens nothing else, and only a writing service token in the channel's pool
issues contact tokens."""

import pytest
from django.core import signing
from rest_framework.test import APIClient

from api.services import create_token
from chat.models import ChatChannel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("database_live_backend")]


@pytest.fixture
def make_token():
    def make(owner, *, scope="write"):
        return create_token(owner=owner, name="app", scope=scope, actor=owner)[1]

    return make


@pytest.fixture
def api_client():
    def make(secret):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
        return client

    return make


def _contact_client(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Contact {token}")
    return client


def _issue(api, channel, email):
    return api.post(
        "/api/v1/contact-tokens/",
        {"channel": str(channel.public_key), "email": email},
        format="json",
    )


def test_a_contact_cannot_read_or_write_another_contacts_conversation(
    agent, make_token, api_client, widget_channel, run_on_commit
):
    service = api_client(make_token(agent))
    maria = _contact_client(_issue(service, widget_channel, "maria@example.com").json()["token"])
    joao = _contact_client(_issue(service, widget_channel, "joao@example.com").json()["token"])
    opened = run_on_commit(maria.post, "/api/v1/conversations/", {"text": "my card number"})
    key = opened.json()["conversation"]["id"]
    file_url = f"/api/v1/conversations/{key}/files/1/"

    assert joao.get(f"/api/v1/conversations/{key}/messages/").status_code == 404
    assert joao.post(f"/api/v1/conversations/{key}/messages/", {"text": "x"}).status_code == 404
    assert joao.get(file_url).status_code == 404
    assert joao.get("/api/v1/conversations/").json() == []
    # A contact token is not an agent's: the rest of the API is closed to it.
    assert maria.get("/api/v1/tickets/").status_code == 401


def test_a_forged_or_other_purpose_token_is_refused(widget_channel):
    forged = signing.dumps({"contact": 1, "channel": str(widget_channel.public_key)}, salt="x")

    assert _contact_client(forged).get("/api/v1/conversations/").status_code == 401
    assert _contact_client("nonsense").get("/api/v1/conversations/").status_code == 401


def test_only_a_writing_token_in_the_channels_pool_issues_contact_tokens(
    agent, other_agent, make_token, api_client, widget_channel
):
    reader = api_client(make_token(agent, scope="read"))
    outsider = api_client(make_token(other_agent))

    assert _issue(reader, widget_channel, "a@example.com").status_code == 403
    assert _issue(outsider, widget_channel, "a@example.com").status_code == 404
    assert _issue(APIClient(), widget_channel, "a@example.com").status_code == 401


def test_a_token_for_a_non_widget_channel_is_not_issued(agent, make_token, api_client, pool):
    telegram = ChatChannel.objects.create(name="Bot", kind="telegram", pool=pool)

    assert _issue(api_client(make_token(agent)), telegram, "a@example.com").status_code == 404
