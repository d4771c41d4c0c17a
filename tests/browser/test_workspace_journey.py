"""The agent workspace in a real browser: bulk bar, saved views, shortcuts, compact mode,
and every page at a phone's 390 px without sideways scrolling."""

import re

import pytest
from playwright.sync_api import expect

from people.services import create_agent, create_customer_account
from tests.browser.conftest import PASSWORD
from tickets import services
from tickets.models import PoolMembership, Tag, Ticket
from tickets.services import portal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUBJECTS = [
    "Invoice charged twice this month and the second charge never came back to my card",
    "Internet down since this morning",
    "Cannot sign in after the password reset",
    "Quote for twenty extensions",
]


class Shots:
    """Each screenshot at 1280 and at 390 px wide (tests/artifacts/workspace-NN-name-W.png)."""

    def __init__(self, page, directory):
        self.page, self.directory, self.count = page, directory, 0

    def __call__(self, name, widths=(1280, 390)):
        self.count += 1
        before = self.page.viewport_size
        for width in widths:
            self.page.set_viewport_size({"width": width, "height": 900})
            path = self.directory / f"workspace-{name}-{width}.png"
            self.page.screenshot(path=path, full_page=True)
        self.page.set_viewport_size(before)


def _cast(pool, customer):
    ana = create_agent(username="ana", password=PASSWORD, first_name="Ana", last_name="Souza")
    PoolMembership.objects.create(pool=pool, user=ana)
    tickets = []
    for subject in SUBJECTS:
        ticket = portal.open_ticket_from_portal(
            contact=customer, actor=None, subject=subject, description="Details.", pool=pool
        )
        tickets.append(ticket)
    tickets[0].tags.add(Tag.objects.create(name="billing"))
    return ana, tickets


def _row_urls(page):
    return page.locator("#queue-table tbody tr[data-ticket-url]").evaluate_all(
        "rows => rows.map(row => row.dataset.ticketUrl)"
    )


def test_bulk_bar_saved_views_shortcuts_and_compact_mode(
    new_context, live_server, sign_in, page_problems, artifacts_dir, pool, customer
):
    ana, _tickets = _cast(pool, customer)
    page = page_problems.watch(new_context().new_page())
    shots = Shots(page, artifacts_dir)
    sign_in(page, "ana")
    page.goto(f"{live_server.url}/tickets/?tab=waiting")
    rows = page.locator("#queue-table tbody tr[data-ticket-url]")
    expect(rows).to_have_count(4)

    # Bulk: tick two, assign them to me.
    page.locator(".bulk-check").nth(0).check()
    page.locator(".bulk-check").nth(1).check()
    expect(page.locator("#bulk-selected")).to_have_text("Selected: 2")
    page.locator("#bulk-action").select_option("status")
    expect(page.locator("[data-bulk-for=status]")).to_be_visible()
    expect(page.locator("[data-bulk-for=pool]")).to_be_hidden()
    shots("bulk-bar")
    page.locator("#bulk-action").select_option("assign_me")
    page.locator("#bulk-apply").click()
    expect(page.get_by_text("2 tickets changed.")).to_be_visible()
    assert Ticket.objects.filter(assignee=ana).count() == 2
    # Select all on the page.
    page.locator("#bulk-all").check()
    expect(page.locator("#bulk-selected")).to_have_text("Selected: 2")

    # Saved view: save the waiting tab, its count is the list's length.
    page.locator("#save-view summary").click()
    page.locator("#save-view input[name=name]").fill("Waiting here")
    page.locator("#save-view button").click()
    tab = page.locator("[data-saved-view]")
    expect(tab).to_contain_text("Waiting here")
    expect(tab.locator(".saved-view-count")).to_have_text("2")
    shots("saved-view-tabs")

    # Shortcuts: the help overlay.
    page.locator("body").press("?")
    expect(page.locator("#shortcut-help")).to_be_visible()
    shots("help-overlay")
    page.keyboard.press("Escape")
    expect(page.locator("#shortcut-help")).to_be_hidden()

    # j/k move through the queue, o opens, j/k then walk the same order on ticket pages.
    page.goto(f"{live_server.url}/tickets/?tab=mine")
    urls = _row_urls(page)
    assert len(urls) == 2
    page.locator("body").press("j")
    expect(rows.nth(0)).to_have_class(re.compile("kb-current"))
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile("kb-current"))
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile("kb-current"))
    page.keyboard.press("o")
    expect(page).to_have_url(f"{live_server.url}{urls[0]}")
    page.keyboard.press("j")
    expect(page).to_have_url(f"{live_server.url}{urls[1]}")
    page.keyboard.press("k")
    expect(page).to_have_url(f"{live_server.url}{urls[0]}")
    # r and n open the composer; typing j there types, it does not leave the page.
    page.keyboard.press("n")
    note = page.locator("#note-pane textarea")
    expect(note).to_be_focused()
    page.keyboard.press("r")  # typed into the note
    page.keyboard.press("j")
    expect(note).to_have_value("rj")
    expect(page).to_have_url(f"{live_server.url}{urls[0]}")
    page.locator("h1").click()
    page.keyboard.press("r")
    expect(page.locator("#reply-pane textarea[name=body]")).to_be_focused()
    page.locator("h1").click()
    page.keyboard.press("/")
    expect(page.locator("aside input[name=q]")).to_be_focused()

    # Compact mode: one line per ticket, remembered.
    page.goto(f"{live_server.url}/tickets/?tab=mine")
    page.locator("#compact-toggle").click()
    expect(page.locator("#queue-table")).to_have_class(re.compile("queue-compact"))
    subject = page.locator("td.queue-subject a").filter(has_text="Invoice charged").first
    height = subject.evaluate("a => a.getBoundingClientRect().height")
    line = subject.evaluate("a => parseFloat(getComputedStyle(a).lineHeight)")
    assert height <= line * 1.5
    shots("compact-queue")
    page.reload()
    expect(page.locator("#queue-table")).to_have_class(re.compile("queue-compact"))
    assert page_problems.items == []


def _fits(page, width=390):
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"{page.url} is {scroll} px wide"


def test_every_page_fits_a_phone_and_the_menu_reaches_sign_out(
    new_context, live_server, sign_in, page_problems, artifacts_dir, pool, customer
):
    ana, tickets = _cast(pool, customer)
    services.assign_ticket(tickets[1], agent=ana, actor=ana)
    create_customer_account(customer, username="carla", password=PASSWORD)
    page = page_problems.watch(new_context().new_page())
    sign_in(page, "ana")
    page.set_viewport_size({"width": 390, "height": 844})
    shots = Shots(page, artifacts_dir)
    for url in ("/tickets/?tab=waiting", "/tickets/?tab=mine", tickets[0].get_absolute_url()):
        page.goto(f"{live_server.url}{url}")
        _fits(page)
    page.goto(f"{live_server.url}/tickets/?tab=waiting")
    shots("phone-queue", widths=(390,))
    # The menu folds behind the toggler; Sign out and the language are inside it.
    sign_out = page.get_by_role("button", name="Sign out")
    expect(sign_out).to_be_hidden()
    page.locator(".navbar-toggler").click()
    expect(sign_out).to_be_visible()
    expect(page.locator("#main-nav select[name=language]")).to_be_visible()
    _fits(page)
    shots("phone-navigation-open", widths=(390,))
    sign_out.click()
    expect(page).to_have_url(re.compile("/accounts/login/|/$"))

    page.goto(f"{live_server.url}/portal/login/")
    page.get_by_label("Username").fill("carla")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/portal/")
    _fits(page)
    shots("phone-portal-list", widths=(390,))
    page.goto(f"{live_server.url}/portal/tickets/{tickets[0].number}/")
    _fits(page)
    shots("phone-portal-ticket", widths=(390,))
    portal_sign_out = page.get_by_role("button", name="Sign out")
    expect(portal_sign_out).to_be_hidden()
    page.locator(".navbar-toggler").click()
    expect(portal_sign_out).to_be_visible()
    _fits(page)
    assert page_problems.items == []
