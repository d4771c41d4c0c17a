"""Telegram against a local Bot API server: webhooks in, replies out, failures visible."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from chat.models import ChatMessage, Conversation, InboundEvent
from chat.outbound import send_chat_message
from people.models import ContactPhone
from tests.chat.fixtures import TELEGRAM_SECRET
from tests.factories import ContactFactory
from tickets.models import ActivityLog, Attachment, Message, Ticket
from tickets.services import add_reply, approve_reply

pytestmark = pytest.mark.django_db

CHAT_ID = 777000111


def update(update_id=1, message_id=10, **message):
    body = {
        "message_id": message_id,
        "from": {"id": CHAT_ID, "is_bot": False, "first_name": "Ana", "last_name": "Souza"},
        "chat": {"id": CHAT_ID, "type": "private", "first_name": "Ana"},
        "date": 1_800_000_000,
        **message,
    }
    return {"update_id": update_id, "message": body}


def test_a_message_opens_a_telegram_ticket_in_the_channel_pool(post_hook, telegram_channel):
    response = post_hook(telegram_channel, update(text="My invoice is wrong"))

    assert response.status_code == 200
    ticket = Ticket.objects.get()
    assert ticket.channel == "telegram"
    assert ticket.pool == telegram_channel.pool
    assert ticket.subject == "My invoice is wrong"
    assert ticket.requester.name == "Ana Souza"
    message = ticket.messages.get()
    assert message.kind == Message.Kind.INBOUND and message.body_text == "My invoice is wrong"
    record = ChatMessage.objects.get(direction="in")
    assert record.message == message and record.platform_message_id == "10"
    conversation = Conversation.objects.get()
    assert conversation.ticket == ticket and conversation.external_id == str(CHAT_ID)
    assert InboundEvent.objects.get().state == InboundEvent.State.DONE


def test_wrong_or_missing_secret_token_is_refused(post_hook, telegram_channel, telegram_server):
    wrong = post_hook(
        telegram_channel,
        update(text="hi"),
        headers={"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": TELEGRAM_SECRET + "x"},
    )
    missing = post_hook(telegram_channel, update(update_id=2, text="hi"), signed=False)

    assert wrong.status_code == missing.status_code == 403
    assert not InboundEvent.objects.exists()
    assert not Ticket.objects.exists()


def test_a_redelivered_update_is_ignored(post_hook, telegram_channel):
    post_hook(telegram_channel, update(update_id=5, text="Hello"))
    again = post_hook(telegram_channel, update(update_id=5, text="Hello"))

    assert again.status_code == 200
    assert InboundEvent.objects.count() == 1
    assert Message.objects.count() == 1


def test_the_next_message_joins_the_same_ticket(post_hook, telegram_channel):
    post_hook(telegram_channel, update(update_id=1, message_id=1, text="Hello"))
    post_hook(telegram_channel, update(update_id=2, message_id=2, text="Are you there?"))

    assert Ticket.objects.count() == 1
    assert Ticket.objects.get().messages.count() == 2


def content_of(attachment) -> bytes:
    with attachment.file.open("rb") as stored:
        return stored.read()


def test_photos_and_documents_are_downloaded_and_stored(
    post_hook, telegram_channel, telegram_server
):
    telegram_server.add_file("small", "photos/file_1.jpg", b"small-jpeg")
    telegram_server.add_file("large", "photos/file_2.jpg", b"\xff\xd8large-jpeg")
    telegram_server.add_file("doc1", "documents/file_3.pdf", b"%PDF-1.7 contract")
    post_hook(
        telegram_channel,
        update(
            update_id=1,
            message_id=1,
            caption="Photo of the error",
            photo=[
                {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
                {"file_id": "large", "file_unique_id": "l", "width": 800, "height": 800},
            ],
        ),
    )
    post_hook(
        telegram_channel,
        update(
            update_id=2,
            message_id=2,
            document={
                "file_id": "doc1",
                "file_name": "contract.pdf",
                "mime_type": "application/pdf",
            },
        ),
    )

    photo, document = Attachment.objects.order_by("pk")
    assert content_of(photo) == b"\xff\xd8large-jpeg"  # the largest size, not the thumbnail
    assert photo.content_type == "image/jpeg"
    assert photo.message.body_text == "Photo of the error"
    assert document.filename == "contract.pdf"
    assert document.content_type == "application/pdf"
    assert content_of(document) == b"%PDF-1.7 contract"


def test_a_file_telegram_no_longer_has_becomes_a_note(post_hook, telegram_channel):
    post_hook(
        telegram_channel,
        update(document={"file_id": "gone", "file_name": "a.pdf", "mime_type": "application/pdf"}),
    )

    message = Message.objects.get()
    assert "could not be downloaded" in message.body_text
    assert not Attachment.objects.exists()


def test_the_greeting_is_sent_when_a_conversation_starts(
    post_hook, telegram_channel, telegram_server
):
    telegram_channel.greeting = "Hello! An agent will answer soon."
    telegram_channel.save()

    post_hook(telegram_channel, update(update_id=1, message_id=1, text="Hi"))
    post_hook(telegram_channel, update(update_id=2, message_id=2, text="Hi again"))

    sends = [r for r in telegram_server.sent() if r["path"].endswith("/sendMessage")]
    assert len(sends) == 1  # once per ticket
    assert sends[0]["json"] == {
        "chat_id": str(CHAT_ID),
        "text": "Hello! An agent will answer soon.",
    }


@pytest.fixture
def ticket(post_hook, telegram_channel):
    post_hook(telegram_channel, update(text="Where is my order?"))
    return Ticket.objects.get()


def test_an_agent_reply_is_sent_with_the_bot_api_payload(
    ticket, agent, telegram_server, run_on_commit
):
    reply = run_on_commit(add_reply, ticket, author=agent, body="It ships tomorrow.")

    (request,) = telegram_server.sent()
    assert request["path"] == "/bot123456:ABC-bot-token/sendMessage"
    assert request["json"] == {"chat_id": str(CHAT_ID), "text": "It ships tomorrow."}
    row = ChatMessage.objects.get(message=reply)
    assert row.state == ChatMessage.State.SENT
    assert row.platform_message_id == "1001"


def test_a_reply_with_files_sends_text_then_each_file(
    ticket, agent, telegram_server, run_on_commit
):
    files = [
        SimpleUploadedFile("label.png", b"\x89PNG label", content_type="image/png"),
        SimpleUploadedFile("invoice.pdf", b"%PDF invoice", content_type="application/pdf"),
    ]
    run_on_commit(add_reply, ticket, author=agent, body="Here you are.", files=files)

    text, photo, document = telegram_server.sent()
    assert text["path"].endswith("/sendMessage")
    assert photo["path"].endswith("/sendPhoto")
    assert photo["fields"] == {"chat_id": str(CHAT_ID)}
    assert photo["files"]["photo"] == ("label.png", b"\x89PNG label", "image/png")
    assert document["path"].endswith("/sendDocument")
    assert document["files"]["document"] == ("invoice.pdf", b"%PDF invoice", "application/pdf")
    assert set(ChatMessage.objects.filter(direction="out").values_list("state", flat=True)) == {
        "sent"
    }


def test_a_rate_limited_reply_waits_as_told_and_is_sent_once(
    ticket, agent, telegram_server, run_on_commit
):
    telegram_server.fail_next(
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 3",
            "parameters": {"retry_after": 3},
        },
    )
    reply = run_on_commit(add_reply, ticket, author=agent, body="Answer")
    row = ChatMessage.objects.get(message=reply)
    assert row.state == ChatMessage.State.RETRY
    assert timedelta(seconds=2) < row.next_attempt_at - timezone.now() <= timedelta(seconds=3)

    assert send_chat_message(row.pk) is False  # not due yet
    ChatMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    assert run_on_commit(send_chat_message, row.pk) is True
    assert send_chat_message(row.pk) is False  # sent: never twice

    assert len(telegram_server.sent()) == 2  # the refused try and the one that went
    row.refresh_from_db()
    assert row.state == ChatMessage.State.SENT and row.attempts == 2


def test_a_blocked_bot_fails_at_once_and_the_ticket_page_says_so(
    ticket, agent, agent_client, telegram_server, run_on_commit
):
    telegram_server.fail_next(
        403,
        {"ok": False, "error_code": 403, "description": "Forbidden: bot was blocked by the user"},
    )
    reply = run_on_commit(add_reply, ticket, author=agent, body="Answer")

    row = ChatMessage.objects.get(message=reply)
    assert row.state == ChatMessage.State.FAILED
    assert "bot was blocked" in row.last_error
    failure = ActivityLog.objects.get(ticket=ticket, action=ActivityLog.Action.DELIVERY_FAILED)
    assert "Telegram bot" in failure.detail
    page = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert "could not be delivered" in page
    assert "chat-state-failed" in page


def test_a_server_error_is_retried_until_the_last_attempt_then_fails(
    ticket, agent, telegram_server, run_on_commit, settings
):
    settings.OUTBOX_MAX_ATTEMPTS = 2
    for _ in range(2):
        telegram_server.fail_next(
            502, {"ok": False, "error_code": 502, "description": "Bad Gateway"}
        )
    reply = run_on_commit(add_reply, ticket, author=agent, body="Answer")
    row = ChatMessage.objects.get(message=reply)
    assert row.state == ChatMessage.State.RETRY
    ChatMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())

    run_on_commit(send_chat_message, row.pk)

    row.refresh_from_db()
    assert row.state == ChatMessage.State.FAILED
    assert ActivityLog.objects.filter(action=ActivityLog.Action.DELIVERY_FAILED).count() == 1


def test_a_junior_reply_leaves_only_after_approval(
    ticket, junior, supervisor, telegram_server, run_on_commit
):
    reply = run_on_commit(add_reply, ticket, author=junior, body="Draft answer")
    assert not ChatMessage.objects.filter(message=reply).exists()
    assert telegram_server.sent() == []

    run_on_commit(approve_reply, reply, actor=supervisor)

    (request,) = telegram_server.sent()
    assert request["json"]["text"] == "Draft answer"


def test_a_shared_phone_number_finds_the_known_customer(post_hook, telegram_channel):
    known = ContactFactory(name="Ana Known")
    ContactPhone.objects.create(contact=known, number="+55 11 98765-4321")
    contact_message = {
        "contact": {"phone_number": "5511987654321", "first_name": "Ana", "user_id": CHAT_ID}
    }

    post_hook(telegram_channel, update(update_id=1, message_id=1, text="Hello"))
    post_hook(telegram_channel, update(update_id=2, message_id=2, **contact_message))

    assert Conversation.objects.get().contact == known


def test_someone_elses_shared_number_does_not_identify_the_sender(post_hook, telegram_channel):
    known = ContactFactory(name="Somebody Else")
    ContactPhone.objects.create(contact=known, number="+55 11 98765-4321")
    shared = {"contact": {"phone_number": "5511987654321", "first_name": "X", "user_id": 1}}

    post_hook(telegram_channel, update(**shared))

    assert Conversation.objects.get().contact != known
