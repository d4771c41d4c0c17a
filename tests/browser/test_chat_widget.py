"""The website widget end to end, in two browser contexts: a customer on a shop's page (its
own origin, another port) chats with an agent on the ticket page. Each side sees the other's
message, and a file, within two seconds of it being stored, without a reload; the ASGI
server serves the live streams as `make run` does."""

# ruff: noqa: F811 (the ASGI server fixture is imported, then asked for by name)

import http.server
import threading
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from chat.models import ChatChannel, ChatMessage
from people.services import create_agent
from tests.browser.conftest import PASSWORD
from tests.live.server import asgi_server  # noqa: F401
from tests.mailboxes.smtp_sink import free_port
from tickets.models import PoolMembership, Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WITHIN_MS = 2000
SHOP_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme Shop</title>
<style>body {{ font-family: Georgia, serif; margin: 2rem; background: #fdf6e3; }}</style>
</head><body>
<h1>Acme Shop</h1><p>Handmade tea cups, shipped worldwide.</p>
<script src="{server}/static/chat/widget.js" data-channel="{key}" defer></script>
</body></html>
"""


class ShopSite:
    """The company's own site: one static page embedding the widget, on another port."""

    def __init__(self):
        self.html = ""
        site = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = site.html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def _agent_signs_in(page, server, then):
    page.goto(f"{server.url}/accounts/login/")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/tickets/")
    page.goto(f"{server.url}{then}")
    expect(page.locator("html[data-live=connected]")).to_have_count(1)


def _widget_sends(shop, text, *, file=None):
    """Send from the widget; returns once the server stored it (the POST answered)."""
    panel = shop.locator("#helpdesk-chat-widget .panel")
    panel.get_by_role("textbox", name="Write a message").fill(text)
    if file is not None:
        panel.locator("input[type=file]").set_input_files(file)
    with shop.expect_response(
        lambda r: "/messages/" in r.url and r.request.method == "POST"
    ) as sent:
        panel.get_by_role("button", name="Send", exact=True).click()
    assert sent.value.status == 201


def _agent_replies(agent_page, text, *, file=None):
    agent_page.locator("#reply-form textarea[name=body]").fill(text)
    if file is not None:
        agent_page.locator("#reply-form input[type=file]").set_input_files(file)
    with agent_page.expect_navigation():
        agent_page.locator("#send-reply").click()


def test_a_customer_and_an_agent_chat_through_the_widget_live(
    asgi_server, new_context, page_problems, artifacts_dir, settings, pool, eager_tasks, tmp_path
):
    settings.LIVE_REDIS_URL = ""
    settings.CHAT_WIDGET_MIN_SECONDS = 0
    agent = create_agent(username="ana", password=PASSWORD, first_name="Ana")
    PoolMembership.objects.create(pool=pool, user=agent)
    # A PDF both ways: the ticket page shows an image through a FileResponse, whose
    # synchronous iterator Django's ASGI handler warns about (and warnings are errors here).
    photo = tmp_path / "broken-cup.pdf"
    photo.write_bytes(b"%PDF-1.4 photo of the cup")
    invoice = tmp_path / "invoice.pdf"
    invoice.write_bytes(b"%PDF-1.4 invoice")

    with ShopSite() as site:
        channel = ChatChannel.objects.create(
            name="Acme website",
            kind=ChatChannel.Kind.WIDGET,
            pool=pool,
            allowed_origins=site.url,
            greeting="Hi! Ana or a colleague will answer in a moment.",
        )
        site.html = SHOP_PAGE.format(server=asgi_server.url, key=channel.public_key)
        shop = page_problems.watch(new_context().new_page())
        shop.goto(site.url)
        launcher = shop.locator("#helpdesk-chat-widget .launcher")
        expect(launcher).to_have_text("Chat with us", timeout=15_000)
        launcher.click()
        panel = shop.locator("#helpdesk-chat-widget .panel")
        shop.set_viewport_size({"width": 390, "height": 844})
        shop.screenshot(path=str(artifacts_dir / "chat-widget-intro-390.png"))
        shop.set_viewport_size({"width": 1366, "height": 900})
        panel.get_by_role("textbox", name="Your name").fill("Maria Silva")
        panel.get_by_role("textbox", name="Your email").fill("maria@example.com")
        _widget_sends(shop, "My cup arrived broken")
        expect(panel.locator(".bubble.theirs", has_text="Ana or a colleague")).to_be_visible(
            timeout=WITHIN_MS
        )
        ticket = Ticket.objects.get()

        agent_page = page_problems.watch(new_context().new_page())
        _agent_signs_in(agent_page, asgi_server, ticket.get_absolute_url())
        thread = agent_page.locator("#chat-thread")
        expect(thread).to_contain_text("My cup arrived broken")

        # Customer -> agent: a message and a photo, live on the ticket page.
        _widget_sends(shop, "Here is a scan", file=str(photo))
        expect(thread.locator(".chat-bubble-in", has_text="Here is a scan")).to_be_visible(
            timeout=WITHIN_MS
        )
        expect(thread.locator(".attachment-link", has_text="broken-cup.pdf")).to_be_visible(
            timeout=WITHIN_MS
        )

        # Agent -> customer: a reply with a file, live in the widget.
        _agent_replies(agent_page, "Sorry! Here is the invoice for the refund.", file=str(invoice))
        expect(panel.locator(".bubble.theirs", has_text="invoice for the refund")).to_be_visible(
            timeout=WITHIN_MS
        )
        expect(panel.locator(".file-link", has_text="invoice.pdf")).to_be_visible(timeout=WITHIN_MS)
        # The widget showed it to an open panel: read, and the agent's ticks say so (the
        # reply's redirect reloaded the ticket page, whose stream may open after the receipt,
        # so the ticks are checked on the stored state, then on the page).
        reply_rows = ChatMessage.objects.filter(message__body_text__contains="refund")
        deadline = time.monotonic() + 5
        while reply_rows.exclude(state="read").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not reply_rows.exclude(state="read").exists()
        agent_page.reload()
        expect(agent_page.locator("#chat-thread .chat-state-read")).to_have_count(2)
        expect(agent_page.locator("html[data-live=connected]")).to_have_count(1)

        # Typing reaches the agent.
        panel.get_by_role("textbox", name="Write a message").press_sequentially("Tha")
        expect(agent_page.locator("#chat-typing")).to_be_visible(timeout=WITHIN_MS)
        _widget_sends(shop, "Thank you!")
        expect(thread.locator(".chat-bubble-in", has_text="Thank you!")).to_be_visible(
            timeout=WITHIN_MS
        )

        shots = Path(artifacts_dir)
        shop.screenshot(path=str(shots / "chat-widget-customer-1280.png"))
        agent_page.screenshot(path=str(shots / "chat-widget-agent-1280.png"), full_page=True)
        shop.set_viewport_size({"width": 390, "height": 844})
        shop.screenshot(path=str(shots / "chat-widget-customer-390.png"))
        agent_page.set_viewport_size({"width": 390, "height": 844})
        agent_page.screenshot(path=str(shots / "chat-widget-agent-390.png"), full_page=True)
        # Closed on a phone: the launcher only.
        panel.locator(".close").click()
        shop.screenshot(path=str(shots / "chat-widget-launcher-390.png"))

    assert page_problems.items == []
