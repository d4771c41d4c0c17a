"""A mobile app opens and follows a conversation as one customer: its backend gets a
contact token (service token), the app writes, reads agents' replies page by page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from chat.models import Conversation
from tickets.models import Ticket
from tickets.services import add_note, add_reply
from tickets.states import Channel

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("database_live_backend")]


@pytest.fixture
def contact_api(agent_api, widget_channel):
    """``contact_api(email)`` -> a client sending that customer's contact token."""

    def make(email="maria@example.com", name="Maria"):
        answer = agent_api.post(
            "/api/v1/contact-tokens/",
            {"channel": str(widget_channel.public_key), "email": email, "name": name},
            format="json",
        )
        assert answer.status_code == 201, answer.content
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Contact {answer.json()['token']}")
        return client

    return make


def test_the_app_opens_a_conversation_and_follows_the_agents_replies(
    contact_api, agent, run_on_commit
):
    maria = contact_api()

    opened = run_on_commit(maria.post, "/api/v1/conversations/", {"text": "Hi from the app"})

    assert opened.status_code == 201, opened.content
    conversation = opened.json()["conversation"]
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.CHAT and ticket.requester.name == "Maria"
    assert conversation["ticket"] == ticket.number
    run_on_commit(add_note, ticket, author=agent, body="note for agents")
    run_on_commit(add_reply, ticket, author=agent, body="Hello Maria")
    url = f"/api/v1/conversations/{conversation['id']}/messages/"
    more = run_on_commit(maria.post, url, {"text": "Thanks!", "client_id": "m-2"})
    run_on_commit(maria.post, url, {"text": "Thanks!", "client_id": "m-2"})  # a retry

    assert more.status_code == 201
    first = maria.get(url, {"limit": 3}).json()
    second = maria.get(first["next"]).json()
    texts = [m["text"] for m in first["results"] + second["results"]]
    greeting = "Hello! An agent will be with you shortly."
    assert texts == ["Hi from the app", greeting, "Hello Maria", "Thanks!"]
    assert second["next"] is None
    assert [c["id"] for c in maria.get("/api/v1/conversations/").json()] == [conversation["id"]]


def test_files_go_through_the_app_conversation(contact_api, run_on_commit):
    maria = contact_api()
    photo = SimpleUploadedFile("photo.png", b"\x89PNG fake", content_type="image/png")
    opened = run_on_commit(
        maria.post, "/api/v1/conversations/", {"text": "see", "files": [photo]}, format="multipart"
    )
    key = opened.json()["conversation"]["id"]
    file = opened.json()["message"]["files"][0]

    download = maria.get(f"/api/v1/conversations/{key}/files/{file['id']}/")

    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"\x89PNG fake"


def test_an_agent_token_opens_no_conversation_endpoint(agent_api, contact_api, run_on_commit):
    maria = contact_api()
    key = run_on_commit(maria.post, "/api/v1/conversations/", {"text": "hi"}).json()[
        "conversation"
    ]["id"]

    assert agent_api.get("/api/v1/conversations/").status_code == 401
    assert agent_api.get(f"/api/v1/conversations/{key}/messages/").status_code == 401
    assert Conversation.objects.count() == 1
