"""A WhatsApp chat on the ticket page: bubbles, an image, times, ticks, a failure; queue icon."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from playwright.sync_api import expect

from chat.adapters.base import Inbound, Receipt
from chat.inbound import apply_receipts, receive
from chat.models import ChatChannel, ChatMessage
from people.models import Role
from people.services import create_agent
from tests.browser.conftest import PASSWORD
from tests.chat.fixtures import APP_SECRET, META_TOKEN, PHONE_NUMBER_ID
from tests.chat.servers import graph_error
from tests.factories import PoolFactory
from tickets.models import PoolMembership
from tickets.services import add_note, add_reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WA_ID = "5511987654321"


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 200), (220, 60, 60)).save(buffer, format="PNG")
    return buffer.getvalue()


def _chat(graph_server):
    pool = PoolFactory(name="Billing")
    agent = create_agent(username="ana", password=PASSWORD, role=Role.AGENT, first_name="Ana")
    PoolMembership.objects.create(pool=pool, user=agent)
    channel = ChatChannel.objects.create(
        name="WhatsApp Brasil",
        kind="whatsapp",
        pool=pool,
        api_base_url=graph_server.url,
        account_id=PHONE_NUMBER_ID,
        access_token=META_TOKEN,
        app_secret=APP_SECRET,
        greeting="Olá! Em que podemos ajudar?",
    )
    first = Inbound(
        external_id=WA_ID,
        platform_message_id="wamid.1",
        name="Bruna Lima",
        phone=WA_ID,
        text="Olá, meu boleto não chegou. Segue o print do erro:",
    )
    record = receive(
        channel, first, files=[SimpleUploadedFile("erro.png", _png(), content_type="image/png")]
    )
    ticket = record.ticket
    reply = add_reply(ticket, author=agent, body="Vou reenviar agora para o seu e-mail.")
    sent = ChatMessage.objects.filter(direction="out", state="sent")
    ids = list(sent.values_list("platform_message_id", flat=True))
    apply_receipts(channel, [Receipt(state="read", platform_message_ids=ids)])
    thanks = Inbound(external_id=WA_ID, platform_message_id="wamid.2", text="Obrigada!")
    receive(channel, thanks)
    add_note(ticket, author=agent, body="Boleto reenviado pelo financeiro.")
    graph_server.fail_next(*graph_error(131026, "Message undeliverable")[:2])
    add_reply(ticket, author=agent, body="Recebeu o boleto?")
    assert reply.pk
    return ticket


def test_the_chat_thread_reads_like_a_chat(
    new_context, sign_in, live_server, page_problems, artifacts_dir, graph_server, eager_tasks
):
    ticket = _chat(graph_server)
    context = new_context()
    page = page_problems.watch(context.new_page())
    sign_in(page, "ana")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
        thread = page.locator("#chat-thread")
        expect(thread.locator(".chat-bubble-in")).to_have_count(2)
        expect(thread.locator(".chat-bubble-out")).to_have_count(3)  # greeting and 2 replies
        expect(thread.locator(".chat-state-read")).to_have_count(2)
        expect(thread.locator(".chat-state-failed")).to_have_count(1)
        expect(thread.locator("img.chat-image")).to_be_visible()
        expect(page.locator("#panel-whatsapp-window")).to_contain_text("Open until")
        page.screenshot(path=artifacts_dir / f"chat-thread-{width}.png", full_page=True)
        page.goto(f"{live_server.url}/tickets/?tab=mine")
        expect(page.locator(".queue-table .bi-whatsapp")).to_have_count(1)
        page.screenshot(path=artifacts_dir / f"chat-queue-{width}.png", full_page=True)
    assert page_problems.items == []
