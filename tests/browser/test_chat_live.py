"""A chat on the ticket page follows the platform live (ASGI server, as `make run` serves it):
a customer's WhatsApp message and a read receipt, processed in another OS process (as a
Celery worker would), show within two seconds without a reload."""

# ruff: noqa: F811 (the ASGI server fixture is imported, then asked for by name)

import pytest
from playwright.sync_api import expect

from chat.adapters.base import Inbound
from chat.inbound import receive
from chat.models import ChatChannel, ChatMessage
from people.services import create_agent
from tests.browser.conftest import PASSWORD
from tests.browser.test_live_journey import LIVE_WITHIN, _sign_in, seen_at, watch_for
from tests.live.server import asgi_server, run_in_another_process  # noqa: F401
from tickets.models import PoolMembership
from tickets.services import add_reply

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CUSTOMER_WRITES = """
import time
from chat.adapters.base import Inbound
from chat.inbound import receive
from chat.models import ChatChannel
receive(ChatChannel.objects.get(pk={channel}), Inbound(
    external_id="5511987654321", platform_message_id="wamid.LIVE", text={text!r}))
print(time.time())
"""

READ_RECEIPT = """
import time
from chat.adapters.base import Receipt
from chat.inbound import apply_receipts
from chat.models import ChatChannel
apply_receipts(ChatChannel.objects.get(pk={channel}),
    [Receipt(state="read", platform_message_ids=["wamid.REPLY"])])
print(time.time())
"""


def test_a_whatsapp_message_and_a_read_receipt_show_without_reload(
    asgi_server, new_context, page_problems, artifacts_dir, settings, pool
):
    settings.LIVE_REDIS_URL = ""
    agent = create_agent(username="ana", password=PASSWORD, first_name="Ana")
    PoolMembership.objects.create(pool=pool, user=agent)
    channel = ChatChannel.objects.create(name="WhatsApp", kind="whatsapp", pool=pool)
    first = Inbound(external_id="5511987654321", platform_message_id="wamid.1", text="Oi!")
    ticket = receive(channel, first, email="").ticket
    reply = add_reply(ticket, author=agent, body="Olá, como posso ajudar?")
    # As if the platform had taken it (no platform server in this test).
    ChatMessage.objects.filter(message=reply).update(
        state="sent", platform_message_id="wamid.REPLY"
    )
    page = page_problems.watch(new_context().new_page())
    _sign_in(page, asgi_server, "ana", then=ticket.get_absolute_url())
    expect(page.locator("#chat-thread .chat-state-sent")).to_have_count(1)

    watch_for(page, "#chat-thread .chat-bubble-in", "Meu boleto")
    code = CUSTOMER_WRITES.format(channel=channel.pk, text="Meu boleto não chegou")
    sent_at = float(run_in_another_process(code, settings=settings))
    expect(page.locator("#chat-thread .chat-bubble-in", has_text="Meu boleto")).to_be_visible()
    assert seen_at(page, "#chat-thread .chat-bubble-in", "Meu boleto") - sent_at < LIVE_WITHIN

    watch_for(page, "#chat-thread .chat-state-read", "Read")
    read_at = float(
        run_in_another_process(READ_RECEIPT.format(channel=channel.pk), settings=settings)
    )
    expect(page.locator("#chat-thread .chat-state-read")).to_have_count(1)
    assert seen_at(page, "#chat-thread .chat-state-read", "Read") - read_at < LIVE_WITHIN
    assert page.evaluate("window.notReloaded") is True
    page.screenshot(path=str(artifacts_dir / "chat-live-1280.png"), full_page=True)
    assert page_problems.items == []
