"""WhatsApp Cloud API against a local Graph server: verification, media, receipts, 24 hours."""

import json
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from chat.models import ChatMessage, Conversation, InboundEvent
from chat.outbound import send_chat_message
from mailboxes.models import OutgoingEmail
from people.models import ContactPhone
from tests.chat.fixtures import META_TOKEN, VERIFY_TOKEN, hook_url, meta_signature
from tests.chat.servers import graph_error
from tests.factories import ContactFactory
from tickets.models import ActivityLog, Attachment, Message, Ticket
from tickets.services import add_reply

pytestmark = pytest.mark.django_db

WA_ID = "5511987654321"


def webhook(messages=(), statuses=()):
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001234", "phone_number_id": "106540352242922"},
    }
    if messages:
        value["contacts"] = [{"profile": {"name": "Bruna Lima"}, "wa_id": WA_ID}]
        value["messages"] = list(messages)
    if statuses:
        value["statuses"] = list(statuses)
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA_ID", "changes": [{"value": value, "field": "messages"}]}],
    }


def text(body, wamid="wamid.IN1"):
    return {
        "from": WA_ID,
        "id": wamid,
        "timestamp": "1800000000",
        "type": "text",
        "text": {"body": body},
    }


def status(wamid, state, **extra):
    return {
        "id": wamid,
        "status": state,
        "timestamp": "1800000100",
        "recipient_id": WA_ID,
        **extra,
    }


def test_the_subscription_challenge_is_answered_only_with_the_verify_token(
    client, whatsapp_channel
):
    url = hook_url(whatsapp_channel)
    ok = client.get(
        url,
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    wrong = client.get(
        url, {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1158201444"}
    )

    assert ok.status_code == 200 and ok.content == b"1158201444"
    assert wrong.status_code == 403


def test_a_body_not_signed_with_the_app_secret_is_refused(client, whatsapp_channel):
    body = json.dumps(webhook([text("hi")])).encode()
    url = hook_url(whatsapp_channel)
    forged = client.post(
        url,
        body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=meta_signature(body, "another-secret"),
    )
    tampered = client.post(
        url,
        body.replace(b"hi", b"ho"),
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=meta_signature(body),
    )
    unsigned = client.post(url, body, content_type="application/json")

    assert forged.status_code == tampered.status_code == unsigned.status_code == 403
    assert not InboundEvent.objects.exists()


def test_a_message_from_a_known_number_joins_that_customer(post_hook, whatsapp_channel):
    known = ContactFactory(name="Bruna (from mail)")
    ContactPhone.objects.create(contact=known, number="(11) 98765-4321")  # no country code

    post_hook(whatsapp_channel, webhook([text("Boleto não chegou")]))

    ticket = Ticket.objects.get()
    assert ticket.channel == "whatsapp"
    assert ticket.requester == known
    assert Conversation.objects.get().contact == known


def test_a_new_number_makes_a_contact_with_that_number(post_hook, whatsapp_channel):
    post_hook(whatsapp_channel, webhook([text("Olá")]))

    contact = Ticket.objects.get().requester
    assert contact.name == "Bruna Lima"
    assert contact.phones.get().digits == WA_ID


def test_a_redelivered_webhook_is_ignored(post_hook, whatsapp_channel):
    payload = webhook([text("Olá", wamid="wamid.SAME")])
    post_hook(whatsapp_channel, payload)
    post_hook(whatsapp_channel, payload)

    assert InboundEvent.objects.count() == 1
    assert Message.objects.count() == 1


def test_images_and_documents_are_downloaded_with_the_token(
    post_hook, whatsapp_channel, graph_server
):
    graph_server.add_media("MEDIA1", b"\xff\xd8jpeg-bytes", "image/jpeg")
    graph_server.add_media("MEDIA2", b"%PDF-1.4 boleto", "application/pdf")
    image = {
        "from": WA_ID,
        "id": "wamid.IMG",
        "timestamp": "1800000000",
        "type": "image",
        "image": {"id": "MEDIA1", "mime_type": "image/jpeg", "sha256": "x", "caption": "Erro"},
    }
    document = {
        "from": WA_ID,
        "id": "wamid.DOC",
        "timestamp": "1800000001",
        "type": "document",
        "document": {"id": "MEDIA2", "mime_type": "application/pdf", "filename": "boleto.pdf"},
    }

    post_hook(whatsapp_channel, webhook([image, document]))

    photo, pdf = Attachment.objects.order_by("pk")
    with photo.file.open("rb") as stored:
        assert stored.read() == b"\xff\xd8jpeg-bytes"
    assert photo.content_type == "image/jpeg"
    assert pdf.filename == "boleto.pdf"
    downloads = [r for r in graph_server.requests if r["path"].startswith("/media-download/")]
    assert {r["headers"]["authorization"] for r in downloads} == {f"Bearer {META_TOKEN}"}


@pytest.fixture
def ticket(post_hook, whatsapp_channel):
    post_hook(whatsapp_channel, webhook([text("Preciso de ajuda")]))
    return Ticket.objects.get()


def test_a_reply_is_sent_as_a_cloud_api_text_message_and_not_mailed(
    ticket, agent, graph_server, run_on_commit
):
    ticket.requester.emails.create(address="bruna@example.test", is_primary=True)

    reply = run_on_commit(add_reply, ticket, author=agent, body="Vamos verificar.")

    (request,) = graph_server.sent()
    assert request["path"] == "/v21.0/106540352242922/messages"
    assert request["headers"]["authorization"] == f"Bearer {META_TOKEN}"
    assert request["json"] == {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": WA_ID,
        "type": "text",
        "text": {"preview_url": False, "body": "Vamos verificar."},
    }
    assert ChatMessage.objects.get(message=reply).platform_message_id == "wamid.OUT1"
    assert not OutgoingEmail.objects.exists()


def test_a_file_is_uploaded_then_sent_by_its_media_id(ticket, agent, graph_server, run_on_commit):
    upload = SimpleUploadedFile("nota.pdf", b"%PDF nota", content_type="application/pdf")
    run_on_commit(add_reply, ticket, author=agent, body="Segue a nota.", files=[upload])

    _text, upload_request, send = graph_server.sent()
    assert upload_request["path"] == "/v21.0/106540352242922/media"
    assert upload_request["fields"]["messaging_product"] == "whatsapp"
    assert upload_request["files"]["file"] == ("nota.pdf", b"%PDF nota", "application/pdf")
    assert send["json"]["type"] == "document"
    assert send["json"]["document"] == {"id": "uploaded-2", "filename": "nota.pdf"}


def test_receipts_move_a_reply_forward_and_never_back(
    ticket, agent, whatsapp_channel, post_hook, run_on_commit
):
    reply = run_on_commit(add_reply, ticket, author=agent, body="Ok")
    row = ChatMessage.objects.get(message=reply)

    post_hook(whatsapp_channel, webhook(statuses=[status(row.platform_message_id, "read")]))
    post_hook(whatsapp_channel, webhook(statuses=[status(row.platform_message_id, "delivered")]))

    row.refresh_from_db()
    assert row.state == ChatMessage.State.READ
    assert row.read_at is not None and row.delivered_at is not None


def test_a_failed_status_is_shown_on_the_ticket(
    ticket, agent, whatsapp_channel, post_hook, run_on_commit, agent_client
):
    reply = run_on_commit(add_reply, ticket, author=agent, body="Ok")
    row = ChatMessage.objects.get(message=reply)
    failed = status(
        row.platform_message_id,
        "failed",
        errors=[{"code": 131026, "title": "Message undeliverable"}],
    )

    post_hook(whatsapp_channel, webhook(statuses=[failed]))

    row.refresh_from_db()
    assert row.state == ChatMessage.State.FAILED
    assert "131026" in row.last_error
    assert ActivityLog.objects.filter(
        ticket=ticket, action=ActivityLog.Action.DELIVERY_FAILED
    ).exists()
    assert "Message undeliverable" in agent_client.get(ticket.get_absolute_url()).content.decode()


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (130429, "Rate limit hit"),
        (80007, "Rate limit issues"),
        (4, "Application request limit reached"),
        (131056, "(Business Account, Consumer Account) pair rate limit hit"),
    ],
)
def test_rate_limits_are_retried_with_back_off(
    ticket, agent, graph_server, run_on_commit, code, message
):
    graph_server.fail_next(*graph_error(code, message)[:2])
    reply = run_on_commit(add_reply, ticket, author=agent, body="Ok")
    row = ChatMessage.objects.get(message=reply)
    assert row.state == ChatMessage.State.RETRY
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=20)  # 30 s back-off

    ChatMessage.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    run_on_commit(send_chat_message, row.pk)

    row.refresh_from_db()
    assert row.state == ChatMessage.State.SENT
    assert len(graph_server.sent()) == 2


def test_an_invalid_recipient_fails_at_once(ticket, agent, graph_server, run_on_commit):
    graph_server.fail_next(*graph_error(131026, "Message undeliverable")[:2])
    reply = run_on_commit(add_reply, ticket, author=agent, body="Ok")

    assert ChatMessage.objects.get(message=reply).state == ChatMessage.State.FAILED


# --- the 24-hour window ---------------------------------------------------------------


@pytest.fixture
def quiet_ticket(ticket, graph_server):
    """The customer's last message is 25 hours old: WhatsApp takes only templates now."""
    Conversation.objects.update(last_inbound_at=timezone.now() - timedelta(hours=25))
    graph_server.closed_windows.add(WA_ID)
    return ticket


def test_the_ticket_page_tells_the_agent_before_they_write(
    quiet_ticket, whatsapp_channel, agent_client
):
    whatsapp_channel.template_name = "support_reply"
    whatsapp_channel.save()

    page = agent_client.get(quiet_ticket.get_absolute_url()).content.decode()

    assert 'id="panel-whatsapp-window"' in page
    assert "more than 24 hours old" in page
    assert "support_reply" in page
    assert "reply-confirmation" in page  # the box to tick before sending


def test_an_open_window_is_shown_too(ticket, agent_client):
    page = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert "Open until" in page


def test_a_reply_outside_the_window_is_refused_until_confirmed(
    quiet_ticket, whatsapp_channel, agent_client, graph_server
):
    whatsapp_channel.template_name = "support_reply"
    whatsapp_channel.save()
    url = f"{quiet_ticket.get_absolute_url()}reply/"

    refused = agent_client.post(url, {"body": "Ainda precisa de ajuda?"})

    assert refused.status_code == 400
    assert not Message.objects.filter(kind=Message.Kind.OUTBOUND).exists()
    assert graph_server.sent() == []


def test_outside_the_window_the_reply_goes_as_the_approved_template(
    quiet_ticket, whatsapp_channel, agent, graph_server, run_on_commit
):
    whatsapp_channel.template_name = "support_reply"
    whatsapp_channel.template_language = "pt_BR"
    whatsapp_channel.save()

    reply = run_on_commit(
        add_reply, quiet_ticket, author=agent, body="Ainda precisa de ajuda?", confirmed=True
    )

    (request,) = graph_server.sent()
    assert request["json"]["type"] == "template"
    assert request["json"]["template"] == {
        "name": "support_reply",
        "language": {"code": "pt_BR"},
        "components": [
            {"type": "body", "parameters": [{"type": "text", "text": "Ainda precisa de ajuda?"}]}
        ],
    }
    row = ChatMessage.objects.get(message=reply)
    assert row.state == ChatMessage.State.SENT and row.kind == ChatMessage.Kind.TEMPLATE


def test_without_a_template_nothing_is_sent_and_the_failure_is_shown(
    quiet_ticket, agent, graph_server, run_on_commit
):
    reply = run_on_commit(add_reply, quiet_ticket, author=agent, body="Olá?", confirmed=True)

    assert graph_server.sent() == []
    row = ChatMessage.objects.get(message=reply)
    assert row.state == ChatMessage.State.FAILED
    assert "24 hours" in row.last_error
    assert ActivityLog.objects.filter(action=ActivityLog.Action.DELIVERY_FAILED).exists()


def test_files_are_not_sent_outside_the_window(
    quiet_ticket, whatsapp_channel, agent, graph_server, run_on_commit
):
    whatsapp_channel.template_name = "support_reply"
    whatsapp_channel.save()
    upload = SimpleUploadedFile("a.pdf", b"%PDF", content_type="application/pdf")

    run_on_commit(
        add_reply, quiet_ticket, author=agent, body="Segue", files=[upload], confirmed=True
    )

    (request,) = graph_server.sent()  # the template only
    assert request["json"]["type"] == "template"
    file_row = ChatMessage.objects.get(part=1)
    assert file_row.state == ChatMessage.State.FAILED


def test_a_new_customer_message_reopens_the_window(
    quiet_ticket, whatsapp_channel, agent, graph_server, post_hook, run_on_commit
):
    graph_server.closed_windows.discard(WA_ID)
    post_hook(whatsapp_channel, webhook([text("Sim, ainda", wamid="wamid.IN2")]))

    run_on_commit(add_reply, quiet_ticket, author=agent, body="Certo!")

    assert graph_server.sent()[-1]["json"]["type"] == "text"


def test_a_receipt_that_overtakes_our_own_send_is_applied_on_a_later_try(
    ticket, whatsapp_channel, post_hook, run_on_commit
):
    from chat import inbound

    early = webhook(statuses=[status("wamid.LATER", "delivered")])
    post_hook(whatsapp_channel, early)
    event = InboundEvent.objects.get(key="status:wamid.LATER:delivered")
    assert event.state == InboundEvent.State.NEW  # waits: no message has that id yet

    ChatMessage.objects.create(
        channel=whatsapp_channel,
        conversation=Conversation.objects.get(),
        ticket=ticket,
        direction="out",
        text="sent meanwhile",
        state=ChatMessage.State.SENT,
        platform_message_id="wamid.LATER",
        sent_at=timezone.now(),
    )
    InboundEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now())
    assert inbound.process_event(event.pk) is True

    assert ChatMessage.objects.get(platform_message_id="wamid.LATER").state == "delivered"


def test_a_receipt_about_a_message_never_ours_is_dropped_after_a_few_tries(
    whatsapp_channel, post_hook
):
    from chat import inbound

    post_hook(whatsapp_channel, webhook(statuses=[status("wamid.NOT_OURS", "read")]))
    event = InboundEvent.objects.get()
    for _attempt in range(inbound.RECEIPT_ATTEMPTS):
        InboundEvent.objects.filter(pk=event.pk).update(next_attempt_at=timezone.now())
        inbound.process_event(event.pk)

    assert InboundEvent.objects.get().state == InboundEvent.State.DONE
