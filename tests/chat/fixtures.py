"""Chat fixtures: local platform servers, channels on them, and posting webhooks."""

import hashlib
import hmac
import json

import pytest
from django.urls import reverse

from chat.models import ChatChannel
from tests.chat.servers import GraphServer, TelegramServer

BOT_TOKEN = "123456:ABC-bot-token"
TELEGRAM_SECRET = "telegram-secret_token-1"
META_TOKEN = "EAAG-access-token"
APP_SECRET = "meta-app-secret"
VERIFY_TOKEN = "meta-verify-token"
PHONE_NUMBER_ID = "106540352242922"
PAGE_ID = "4242424242"


@pytest.fixture
def telegram_server():
    with TelegramServer(BOT_TOKEN) as server:
        yield server


@pytest.fixture
def graph_server():
    with GraphServer(META_TOKEN, phone_number_id=PHONE_NUMBER_ID, page_id=PAGE_ID) as server:
        yield server


@pytest.fixture
def telegram_channel(pool, telegram_server):
    return ChatChannel.objects.create(
        name="Telegram bot",
        kind=ChatChannel.Kind.TELEGRAM,
        pool=pool,
        api_base_url=telegram_server.url,
        access_token=BOT_TOKEN,
        webhook_secret=TELEGRAM_SECRET,
    )


@pytest.fixture
def whatsapp_channel(pool, graph_server):
    return ChatChannel.objects.create(
        name="WhatsApp",
        kind=ChatChannel.Kind.WHATSAPP,
        pool=pool,
        api_base_url=graph_server.url,
        account_id=PHONE_NUMBER_ID,
        access_token=META_TOKEN,
        app_secret=APP_SECRET,
        webhook_secret=VERIFY_TOKEN,
    )


@pytest.fixture
def messenger_channel(pool, graph_server):
    return ChatChannel.objects.create(
        name="Messenger",
        kind=ChatChannel.Kind.MESSENGER,
        pool=pool,
        api_base_url=graph_server.url,
        account_id=PAGE_ID,
        access_token=META_TOKEN,
        app_secret=APP_SECRET,
        webhook_secret=VERIFY_TOKEN,
    )


def hook_url(channel) -> str:
    return reverse("chat:webhook", args=[channel.kind, channel.public_key])


def meta_signature(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


@pytest.fixture
def post_hook(client, eager_tasks, django_capture_on_commit_callbacks):
    """POST a webhook body as the platform would; its processing runs as a worker would."""

    def post(channel, payload, *, headers=None, signed=True):
        body = json.dumps(payload).encode()
        extra = dict(headers or {})
        if signed and channel.kind == ChatChannel.Kind.TELEGRAM:
            extra.setdefault("HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN", TELEGRAM_SECRET)
        elif signed:
            extra.setdefault("HTTP_X_HUB_SIGNATURE_256", meta_signature(body))
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(hook_url(channel), body, content_type="application/json", **extra)

    return post


@pytest.fixture
def run_on_commit(eager_tasks, django_capture_on_commit_callbacks):
    """Run a call and then its after-commit work (tasks run eagerly, as a worker would)."""

    def run(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return run
