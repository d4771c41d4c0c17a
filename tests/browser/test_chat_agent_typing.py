"""The visitor sees the agent typing, in two browser contexts: the agent types in the reply
form of a website-chat ticket and the customer's widget says "Ana is typing…" within two
seconds over the live stream it already follows; typing an internal note shows nothing;
the note goes away by itself when the typing stops, and when the reply arrives."""

# ruff: noqa: F811 (the ASGI server fixture is imported, then asked for by name)

import shutil
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from chat.models import ChatChannel
from chat.typing import SHOWN_FOR_SECONDS
from people.services import create_agent
from tests.browser.conftest import PASSWORD
from tests.browser.test_chat_widget import (
    SHOP_PAGE,
    WITHIN_MS,
    ShopSite,
    _agent_replies,
    _agent_signs_in,
    _widget_sends,
)
from tests.live.server import asgi_server  # noqa: F401
from tickets.models import PoolMembership, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Screenshots for people to look at, beside the test artifacts.
SHOTS = Path(__file__).resolve().parents[3] / "chatlive-shots"


def _shot(page, artifacts_dir, name):
    path = Path(artifacts_dir) / name
    page.screenshot(path=str(path))
    if SHOTS.is_dir():
        shutil.copy(path, SHOTS / name)


def test_the_widget_shows_the_agent_typing_a_reply_but_not_a_note(
    asgi_server, new_context, page_problems, artifacts_dir, settings, pool, eager_tasks
):
    settings.LIVE_REDIS_URL = ""
    settings.CHAT_WIDGET_MIN_SECONDS = 0
    agent = create_agent(username="ana", password=PASSWORD, first_name="Ana", last_name="Souza")
    PoolMembership.objects.create(pool=pool, user=agent)

    with ShopSite() as site:
        channel = ChatChannel.objects.create(
            name="Acme website", kind=ChatChannel.Kind.WIDGET, pool=pool, allowed_origins=site.url
        )
        site.html = SHOP_PAGE.format(server=asgi_server.url, key=channel.public_key)
        shop = page_problems.watch(new_context().new_page())
        shop.set_viewport_size({"width": 1280, "height": 800})
        shop.goto(site.url)
        launcher = shop.locator("#helpdesk-chat-widget .launcher")
        expect(launcher).to_have_text("Chat with us", timeout=15_000)
        launcher.click()
        panel = shop.locator("#helpdesk-chat-widget .panel")
        _widget_sends(shop, "Is the blue teapot back in stock?")
        expect(shop.locator("#helpdesk-chat-widget[data-live=connected]")).to_have_count(1)
        typing_note = panel.locator(".typing")
        ticket = Ticket.objects.get()

        agent_page = page_problems.watch(new_context().new_page())
        _agent_signs_in(agent_page, asgi_server, ticket.get_absolute_url())

        signals = []
        agent_page.on(
            "request", lambda r: signals.append(r.url) if r.url.endswith("/typing/") else None
        )

        # An internal note: the customer sees nothing, not even that someone types.
        agent_page.locator("#note-tab").click()
        agent_page.locator("#note-pane textarea").press_sequentially("Ask the stock")
        time.sleep(2.5)
        assert signals == []
        expect(typing_note).to_be_hidden()

        # The reply form: "Ana is typing…" within two seconds of the first keystroke.
        agent_page.locator("#reply-tab").click()
        started = time.monotonic()
        agent_page.locator("#reply-form textarea[name=body]").press_sequentially("Let me check")
        expect(typing_note).to_have_text("Ana is typing…", timeout=WITHIN_MS)
        shown_after = time.monotonic() - started
        assert shown_after < WITHIN_MS / 1000, shown_after
        assert len(signals) == 1  # eleven keystrokes, one signal
        _shot(shop, artifacts_dir, "chat-agent-typing-1280.png")
        shop.set_viewport_size({"width": 390, "height": 844})
        _shot(shop, artifacts_dir, "chat-agent-typing-390.png")

        # The agent stops (or closes the tab): the note goes by itself.
        expect(typing_note).to_be_hidden(timeout=(SHOWN_FOR_SECONDS + 2) * 1000)

        # The reply arrives: the note goes at once, not after its seconds.
        time.sleep(2.5)  # the page's own throttle: the next keystroke signals again
        agent_page.locator("#reply-form textarea[name=body]").press_sequentially(" the shelf")
        expect(typing_note).to_be_visible(timeout=WITHIN_MS)
        _agent_replies(agent_page, "Let me check the shelf: yes, two left!")
        expect(panel.locator(".bubble.theirs", has_text="two left")).to_be_visible(
            timeout=WITHIN_MS
        )
        expect(typing_note).to_be_hidden(timeout=500)

    assert page_problems.items == []
