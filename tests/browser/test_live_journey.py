"""Live, without reload, in a real browser on the ASGI server (as `make run` serves it).

An agent has the queue open while a customer's ticket is created in another OS process:
its row appears within two seconds, the page never reloading. Two agents on one ticket see
each other arrive and start replying, and a customer's message lands in both threads.
"""

# ruff: noqa: F811 (the ASGI server fixture is imported, then asked for by name)

import time

import pytest
from playwright.sync_api import expect

from people.services import create_agent
from tests.browser.conftest import PASSWORD
from tests.live.server import asgi_server, run_in_another_process  # noqa: F401
from tickets.models import PoolMembership
from tickets.services import add_customer_message, create_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LIVE_WITHIN = 2.0

NEW_TICKET = """
import time
from django.db import transaction
from people.models import Contact
from tickets.models import Pool
from tickets.services import add_customer_message, create_ticket
with transaction.atomic():
    contact = Contact.objects.get(pk={contact})
    ticket = create_ticket(subject={subject!r}, pool=Pool.objects.get(pk={pool}), requester=contact)
    add_customer_message(ticket, contact=contact, body_text="The invoice arrived twice.")
    sent_at = time.time()
print(sent_at)
"""

CUSTOMER_WRITES = """
import time
from django.db import transaction
from people.models import Contact
from tickets.models import Ticket
from tickets.services import add_customer_message
with transaction.atomic():
    ticket = Ticket.objects.get(pk={ticket})
    add_customer_message(ticket, contact=Contact.objects.get(pk={contact}), body_text={body!r})
    sent_at = time.time()
print(sent_at)
"""


def _pool_agent(pool, username, first_name, last_name):
    user = create_agent(
        username=username,
        password=PASSWORD,
        first_name=first_name,
        last_name=last_name,
        email=f"{username}@helpdesk.test",
    )
    PoolMembership.objects.create(pool=pool, user=user)
    return user


def _sign_in(page, server, username, then):
    page.goto(f"{server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{server.url}/tickets/")
    page.goto(f"{server.url}{then}")
    # live.js marks the page once its stream is open.
    expect(page.locator("html[data-live=connected]")).to_have_count(1)
    page.evaluate("window.notReloaded = true")


WATCH = """([selector, text]) => {
    window.seenAt = window.seenAt || {};
    const key = `${selector}|${text}`;
    const check = () => {
        if (window.seenAt[key]) return;
        for (const element of document.querySelectorAll(selector)) {
            if (element.textContent.includes(text)) window.seenAt[key] = Date.now();
        }
    };
    new MutationObserver(check).observe(document.body, {subtree: true, childList: true});
    check();
}"""


def watch_for(page, selector: str, text: str) -> None:
    """Note in the page the moment an element with ``text`` appears (the page's clock is
    the machine's; polling from here would add its own delay)."""
    page.evaluate(WATCH, [selector, text])


def seen_at(page, selector: str, text: str) -> float:
    return page.evaluate("(key) => window.seenAt[key]", f"{selector}|{text}") / 1000


def _screenshots(page, artifacts_dir, name):
    page.screenshot(path=str(artifacts_dir / f"{name}-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(artifacts_dir / f"{name}-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_new_ticket_appears_on_the_open_queue_without_reload(
    asgi_server, new_context, page_problems, artifacts_dir, settings, pool, customer
):
    settings.LIVE_REDIS_URL = ""
    _pool_agent(pool, "ana", "Ana", "Souza")
    page = page_problems.watch(new_context().new_page())
    _sign_in(page, asgi_server, "ana", then="/tickets/?tab=waiting")
    expect(page.locator("#count-waiting")).to_have_text("0")

    row = page.locator(".queue-table tbody tr", has_text="Invoice sent twice")
    watch_for(page, ".queue-table tbody tr", "Invoice sent twice")
    code = NEW_TICKET.format(contact=customer.pk, pool=pool.pk, subject="Invoice sent twice")
    sent_at = float(run_in_another_process(code, settings=settings))
    expect(row).to_be_visible()
    assert seen_at(page, ".queue-table tbody tr", "Invoice sent twice") - sent_at < LIVE_WITHIN
    expect(page.locator("#count-waiting")).to_have_text("1")
    assert page.evaluate("window.notReloaded") is True
    _screenshots(page, artifacts_dir, "live-queue")
    assert page_problems.items == []


def test_two_agents_on_one_ticket_see_each_other_and_the_customer_live(
    asgi_server, new_context, page_problems, artifacts_dir, settings, pool, customer
):
    settings.LIVE_REDIS_URL = ""
    _pool_agent(pool, "ana", "Ana", "Souza")
    _pool_agent(pool, "bruno", "Bruno", "Costa")
    ticket = create_ticket(subject="Invoice sent twice", pool=pool, requester=customer)
    add_customer_message(ticket, contact=customer, body_text="The invoice arrived twice.")
    path = f"/tickets/{ticket.number}/"

    ana = page_problems.watch(new_context().new_page())
    _sign_in(ana, asgi_server, "ana", then=path)
    expect(ana.locator("#presence .presence-warning")).to_have_count(0)

    # Bruno opens the ticket: his page shows Ana at once; Ana's shows him, live.
    watch_for(ana, "#presence .presence-warning", "Bruno Costa is viewing")
    bruno = page_problems.watch(new_context().new_page())
    with bruno.expect_response(lambda r: r.url.endswith(f"{path}presence/")) as marked:
        _sign_in(bruno, asgi_server, "bruno", then=path)
    arrived_at = time.time()  # his presence is recorded
    expect(bruno.locator("#presence")).to_contain_text("Ana Souza is viewing this ticket.")
    expect(ana.locator("#presence")).to_contain_text("Bruno Costa is viewing this ticket.")
    assert seen_at(ana, "#presence .presence-warning", "Bruno Costa is viewing") - arrived_at < (
        LIVE_WITHIN
    )

    # Bruno types a reply: once his page reports it, Ana sees him replying.
    watch_for(ana, "#presence .presence-warning", "Bruno Costa is replying")
    with bruno.expect_response(lambda r: r.url.endswith(f"{path}presence/")) as marked:
        bruno.locator("#reply-editor textarea[name=body]").fill("Refund on its way.")
    assert marked.value.ok
    typed_at = time.time()
    expect(ana.locator("#presence")).to_contain_text("Bruno Costa is replying to this ticket.")
    assert seen_at(ana, "#presence .presence-warning", "Bruno Costa is replying") - typed_at < (
        LIVE_WITHIN
    )

    # The customer writes again, from another process: both threads show it, no reload.
    for page in (ana, bruno):
        watch_for(page, "#thread article.kind-inbound", "Any news?")
    code = CUSTOMER_WRITES.format(ticket=ticket.pk, contact=customer.pk, body="Any news?")
    sent_at = float(run_in_another_process(code, settings=settings))
    for page in (ana, bruno):
        expect(page.locator("#thread article.kind-inbound", has_text="Any news?")).to_be_visible()
        assert seen_at(page, "#thread article.kind-inbound", "Any news?") - sent_at < LIVE_WITHIN
        assert page.evaluate("window.notReloaded") is True
    # Bruno's reply draft survived the thread's refresh.
    expect(bruno.locator("#reply-editor textarea[name=body]")).to_have_value("Refund on its way.")
    _screenshots(ana, artifacts_dir, "live-ticket-ana")
    _screenshots(bruno, artifacts_dir, "live-ticket-bruno")
    assert page_problems.items == []
