"""Messenger against a local Graph server: signed webhooks, attachments, receipts, Send API."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from chat.models import ChatMessage, InboundEvent
from tests.chat.fixtures import META_TOKEN, PAGE_ID, VERIFY_TOKEN, hook_url
from tests.chat.servers import graph_error
from tickets.models import Attachment, Message, Ticket
from tickets.services import add_reply

pytestmark = pytest.mark.django_db

PSID = "6543210987654321"


def webhook(*items):
    return {
        "object": "page",
        "entry": [{"id": PAGE_ID, "time": 1800000000000, "messaging": list(items)}],
    }


def message(mid="m_IN1", text="Hi there", **extra):
    return {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": 1800000000000,
        "message": {"mid": mid, "text": text, **extra},
    }


def test_the_verify_challenge_needs_the_verify_token(client, messenger_channel):
    url = hook_url(messenger_channel)
    params = {"hub.mode": "subscribe", "hub.challenge": "CHALLENGE"}

    assert client.get(url, {**params, "hub.verify_token": VERIFY_TOKEN}).content == b"CHALLENGE"
    assert client.get(url, {**params, "hub.verify_token": "x"}).status_code == 403


def test_a_message_opens_a_ticket_named_from_the_user_profile(
    post_hook, messenger_channel, graph_server
):
    graph_server.profiles[PSID] = {"first_name": "Carla", "last_name": "Nowak"}

    post_hook(messenger_channel, webhook(message(text="My parcel is late")))

    ticket = Ticket.objects.get()
    assert ticket.channel == "messenger"
    assert ticket.requester.name == "Carla Nowak"
    assert ticket.messages.get().body_text == "My parcel is late"


def test_unsigned_and_echoed_messages_are_not_taken(post_hook, messenger_channel):
    unsigned = post_hook(messenger_channel, webhook(message()), signed=False)
    echo = post_hook(messenger_channel, webhook(message(mid="m_ECHO", is_echo=True)))

    assert unsigned.status_code == 403
    assert echo.status_code == 200
    assert not InboundEvent.objects.exists()


def test_a_redelivered_message_is_ignored(post_hook, messenger_channel):
    post_hook(messenger_channel, webhook(message(mid="m_SAME")))
    post_hook(messenger_channel, webhook(message(mid="m_SAME")))

    assert Message.objects.count() == 1


def test_attachments_are_downloaded_from_their_urls(post_hook, messenger_channel, graph_server):
    url = graph_server.add_cdn_file("photo.jpg", b"\xff\xd8photo", "image/jpeg")
    attachment = {"type": "image", "payload": {"url": url}}

    post_hook(messenger_channel, webhook(message(text="", attachments=[attachment])))

    stored = Attachment.objects.get()
    assert stored.content_type == "image/jpeg"
    with stored.file.open("rb") as content:
        assert content.read() == b"\xff\xd8photo"


@pytest.fixture
def ticket(post_hook, messenger_channel):
    post_hook(messenger_channel, webhook(message()))
    return Ticket.objects.get()


def test_a_reply_uses_the_send_api(ticket, agent, graph_server, run_on_commit):
    run_on_commit(add_reply, ticket, author=agent, body="We are on it.")

    (request,) = graph_server.sent()
    assert request["path"] == f"/v21.0/{PAGE_ID}/messages"
    assert request["headers"]["authorization"] == f"Bearer {META_TOKEN}"
    assert request["json"] == {
        "recipient": {"id": PSID},
        "messaging_type": "RESPONSE",
        "message": {"text": "We are on it."},
    }


def test_a_file_is_sent_as_an_attachment_upload(ticket, agent, graph_server, run_on_commit):
    upload = SimpleUploadedFile("guide.pdf", b"%PDF guide", content_type="application/pdf")
    run_on_commit(add_reply, ticket, author=agent, body="See the guide.", files=[upload])

    _text, send = graph_server.sent()
    assert send["fields"]["message"] == (
        '{"attachment": {"type": "file", "payload": {"is_reusable": false}}}'
    )
    assert send["fields"]["recipient"] == f'{{"id": "{PSID}"}}'
    assert send["files"]["filedata"] == ("guide.pdf", b"%PDF guide", "application/pdf")


def test_delivery_and_read_watermarks_move_replies_forward(
    ticket, agent, messenger_channel, post_hook, run_on_commit
):
    reply = run_on_commit(add_reply, ticket, author=agent, body="Ok")
    row = ChatMessage.objects.get(message=reply)
    later = int(row.sent_at.timestamp() * 1000) + 5000
    delivery = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "delivery": {"mids": [row.platform_message_id], "watermark": later},
    }
    post_hook(messenger_channel, webhook(delivery))
    row.refresh_from_db()
    assert row.state == ChatMessage.State.DELIVERED

    read = {
        "sender": {"id": PSID},
        "recipient": {"id": PAGE_ID},
        "timestamp": later,
        "read": {"watermark": later},
    }
    post_hook(messenger_channel, webhook(read))
    row.refresh_from_db()
    assert row.state == ChatMessage.State.READ


def test_the_rate_limit_answer_is_retried(ticket, agent, graph_server, run_on_commit):
    graph_server.fail_next(*graph_error(613, "Calls to this api have exceeded the rate limit.")[:2])
    reply = run_on_commit(add_reply, ticket, author=agent, body="Ok")

    assert ChatMessage.objects.get(message=reply).state == ChatMessage.State.RETRY


def test_outside_the_messaging_window_the_reply_fails_visibly(
    ticket, agent, graph_server, run_on_commit
):
    graph_server.fail_next(
        *graph_error(10, "This message is sent outside of allowed window.", subcode=2018278)[:2]
    )
    reply = run_on_commit(add_reply, ticket, author=agent, body="Ok")

    row = ChatMessage.objects.get(message=reply)
    assert row.state == ChatMessage.State.FAILED
    assert "outside of allowed window" in row.last_error
