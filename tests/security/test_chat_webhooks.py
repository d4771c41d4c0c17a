"""Chat webhooks and chat tickets: who may post, and who may read.

A webhook is the internet talking to us: only the platform, proven by the channel's own
secret (Telegram) or signature (Meta), may add to a conversation; a channel without its
secret refuses everything; a guessed URL finds nothing. Chat tickets are tickets: the
pool rule applies to their pages and files.
"""

import json

import pytest
from django.urls import reverse

from chat.models import ChatChannel, InboundEvent
from tests.chat.fixtures import TELEGRAM_SECRET, hook_url, meta_signature
from tests.chat.test_telegram import update
from tests.chat.test_whatsapp import text, webhook
from tickets.models import Attachment, Ticket

pytestmark = pytest.mark.django_db


def test_a_telegram_channel_without_a_secret_refuses_every_update(post_hook, telegram_channel):
    telegram_channel.webhook_secret = ""
    telegram_channel.save()

    empty = post_hook(
        telegram_channel, update(text="hi"), headers={"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": ""}
    )

    assert empty.status_code == 403
    assert not InboundEvent.objects.exists()


def test_a_meta_channel_without_an_app_secret_refuses_every_event(client, whatsapp_channel):
    whatsapp_channel.app_secret = ""
    whatsapp_channel.save()
    body = json.dumps(webhook([text("hi")])).encode()

    # Signed with the empty key: an unconfigured secret must not be a known one.
    response = client.post(
        hook_url(whatsapp_channel),
        body,
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256=meta_signature(body, ""),
    )

    assert response.status_code == 403


def test_one_channels_secret_does_not_open_another_channel(
    post_hook, telegram_channel, pool, telegram_server
):
    other = ChatChannel.objects.create(
        name="Other bot",
        kind="telegram",
        pool=pool,
        api_base_url=telegram_server.url,
        access_token="999:other",
        webhook_secret="other-secret",
    )

    response = post_hook(
        other,
        update(text="hi"),
        headers={"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": TELEGRAM_SECRET},
    )

    assert response.status_code == 403


@pytest.mark.parametrize("case", ["unknown key", "wrong kind", "inactive", "widget"])
def test_a_guessed_or_disabled_webhook_url_finds_nothing(client, telegram_channel, pool, case):
    url = hook_url(telegram_channel)
    if case == "unknown key":
        url = reverse("chat:webhook", args=["telegram", "00000000-0000-4000-8000-000000000000"])
    elif case == "wrong kind":
        url = reverse("chat:webhook", args=["whatsapp", telegram_channel.public_key])
    elif case == "inactive":
        telegram_channel.active = False
        telegram_channel.save()
    else:
        widget = ChatChannel.objects.create(name="Site", kind="widget", pool=pool)
        url = reverse("chat:webhook", args=["widget", widget.public_key])

    response = client.post(
        url,
        json.dumps(update(text="hi")),
        content_type="application/json",
        HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=TELEGRAM_SECRET,
    )

    assert response.status_code == 404


def test_telegram_has_no_verification_get(client, telegram_channel):
    response = client.get(
        hook_url(telegram_channel),
        {"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "x"},
    )
    assert response.status_code == 403


def test_a_webhook_is_never_a_state_change_by_get(client, whatsapp_channel):
    response = client.get(hook_url(whatsapp_channel), {"hub.mode": "subscribe"})
    assert response.status_code == 403
    assert not InboundEvent.objects.exists()


@pytest.fixture
def chat_ticket(post_hook, telegram_channel, telegram_server):
    telegram_server.add_file("f1", "documents/x.html", b"<script>alert(1)</script>")
    post_hook(
        telegram_channel,
        update(document={"file_id": "f1", "file_name": "x.html", "mime_type": "text/html"}),
    )
    return Ticket.objects.get()


def test_an_agent_of_another_pool_cannot_open_a_chat_ticket_or_its_files(
    client, other_agent, chat_ticket
):
    client.force_login(other_agent)
    attachment = Attachment.objects.get()

    page = client.get(chat_ticket.get_absolute_url())
    download = client.get(reverse("tickets:attachment", args=[chat_ticket.number, attachment.pk]))

    download.close()
    assert page.status_code == download.status_code == 404


def test_a_customers_html_file_is_only_ever_a_download(agent_client, chat_ticket):
    attachment = Attachment.objects.get()

    inline = agent_client.get(
        reverse("tickets:attachment_inline", args=[chat_ticket.number, attachment.pk])
    )
    download = agent_client.get(
        reverse("tickets:attachment", args=[chat_ticket.number, attachment.pk])
    )

    download.close()
    assert inline.status_code == 404
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"


def test_a_chat_message_is_escaped_on_the_ticket_page(post_hook, telegram_channel, agent_client):
    post_hook(telegram_channel, update(text='<img src=x onerror="alert(1)">'))
    ticket = Ticket.objects.get()

    page = agent_client.get(ticket.get_absolute_url()).content.decode()

    assert '<img src=x onerror="alert(1)">' not in page
    assert "&lt;img src=x onerror=" in page


def test_admin_cannot_filter_channels_by_a_secret(client, admin_user, telegram_channel):
    client.force_login(admin_user)
    url = reverse("admin:chat_chatchannel_changelist")

    response = client.get(url, {"access_token__startswith": "123"})

    # Django's admin answers a refused lookup by dropping it with ?e=1, never by filtering.
    assert response.status_code in (302, 400)


def test_the_chat_thread_of_another_pools_ticket_is_not_found(client, other_agent, chat_ticket):
    client.force_login(other_agent)
    response = client.get(reverse("chat:thread", args=[chat_ticket.number]))
    assert response.status_code == 404


def test_the_chat_thread_needs_a_signed_in_agent(client, customer_client, chat_ticket):
    url = reverse("chat:thread", args=[chat_ticket.number])
    assert customer_client.get(url).status_code in (302, 403, 404)
