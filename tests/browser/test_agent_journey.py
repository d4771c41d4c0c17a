"""The agent's day in a real browser: sign in, Next ticket, canned reply, close.

Runs the real app (templates, static files, htmx, Bootstrap) against pytest-django's
live server; a second agent on the same ticket sees the presence warning.
"""

import re

import pytest
from playwright.sync_api import expect

from people.services import create_agent
from tests.browser.conftest import PASSWORD
from tickets.models import ActivityLog, CannedResponse, Message, PoolMembership, Ticket
from tickets.services import add_customer_message, create_ticket
from tickets.states import Status

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

Action = ActivityLog.Action


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


def _assert_assets_loaded(page):
    """Bootstrap's CSS and JS, and htmx, came through the live server's static handler."""
    assert page.evaluate("typeof window.htmx") == "object", "htmx did not load"
    assert page.evaluate("typeof window.bootstrap") == "object", "Bootstrap JS did not load"
    # .bg-dark is Bootstrap's #212529: unstyled, the navbar would be transparent.
    expect(page.locator("nav.navbar")).to_have_css("background-color", "rgb(33, 37, 41)")
    expect(page.locator("#next-ticket")).to_have_css("display", "inline-block")
    icons_loaded = page.evaluate(
        """async () => {
            await document.fonts.ready;
            return [...document.fonts].some(
                (font) => font.family.replaceAll('"', "") === "bootstrap-icons"
                    && font.status === "loaded"
            );
        }"""
    )
    assert icons_loaded, "the Bootstrap Icons font did not load"


def _is_presence(ticket):
    return lambda response: response.url.endswith(f"/tickets/{ticket.number}/presence/")


def test_agent_pulls_answers_with_canned_response_and_closes(
    new_context, live_server, sign_in, page_problems, artifacts_dir, pool, customer
):
    ana = _pool_agent(pool, "ana", "Ana", "Souza")
    bruno = _pool_agent(pool, "bruno", "Bruno", "Costa")
    ticket = create_ticket(subject="Fatura em duplicidade", pool=pool, requester=customer)
    add_customer_message(
        ticket, contact=customer, body_text="Bom dia, recebi a fatura duas vezes. Obrigado!"
    )
    canned = CannedResponse.objects.create(
        title="Greeting",
        pool=pool,
        body=(
            "Hello {customer_name},\n\nthank you for contacting us about ticket "
            "{ticket_number}.\n\n{agent_name}"
        ),
    )
    ticket_url = f"{live_server.url}/tickets/{ticket.number}/"
    expected_reply = (
        f"Hello Carla Cliente,\n\nthank you for contacting us about ticket "
        f"{ticket.number}.\n\nAna Souza"
    )

    page = page_problems.watch(new_context().new_page())
    try:
        sign_in(page, "ana")
        _assert_assets_loaded(page)
        expect(page.locator("#count-waiting")).to_have_text("1")

        # Next ticket hands Ana the waiting ticket and opens it; its page reports her presence.
        with page.expect_response(_is_presence(ticket)) as presence:
            page.locator("#next-ticket").click()
        expect(page).to_have_url(ticket_url)
        assert presence.value.ok
        expect(page.get_by_role("alert").first).to_contain_text(f"Ticket {ticket.number} is yours.")
        expect(page.locator("#ticket-status")).to_have_text("Taken")
        expect(page.locator("#ticket-assignee")).to_have_text("Ana Souza")
        expect(page.locator("article.kind-inbound")).to_contain_text("recebi a fatura duas vezes")
        _assert_assets_loaded(page)

        # Bruno, in the same pool, opens the ticket: htmx's first presence load warns him.
        bruno_page = page_problems.watch(new_context().new_page())
        sign_in(bruno_page, "bruno")
        with bruno_page.expect_response(_is_presence(ticket)) as bruno_presence:
            bruno_page.goto(ticket_url)
        assert "Ana Souza is viewing this ticket." in bruno_presence.value.text()
        expect(bruno_page.locator("#presence .presence-warning")).to_have_text(
            re.compile(r"^\s*Ana Souza is viewing this ticket\.\s*$")
        )
        expect(bruno_page.locator("#presence .presence-warning")).to_have_count(1)
        bruno_page.close()

        # The canned response goes into the reply box through htmx, placeholders filled in.
        page.get_by_role("button", name="Canned responses").click()
        page.locator(".canned-item", has_text="Greeting").click()
        editor = page.locator("#reply-editor")
        expect(editor).to_contain_text("Inserted “Greeting”; its files will be attached.")
        expect(editor.locator("textarea[name=body]")).to_have_value(expected_reply)
        expect(editor.locator("input[name=canned_response]")).to_have_value(str(canned.pk))

        page.locator("#send-reply").click()
        expect(page.get_by_role("alert").first).to_contain_text("Your reply was saved")
        expect(page.locator("article.kind-outbound")).to_contain_text(
            "thank you for contacting us about ticket"
        )
        expect(page.locator("#ticket-status")).to_have_text("In progress")
        # Ana's reloaded page knows Bruno is on the ticket too.
        expect(page.locator("#presence")).to_contain_text("Bruno Costa is viewing this ticket.")

        status_form = page.locator("#status-form")
        status_form.get_by_label("Status").select_option(label="Closed")
        status_form.get_by_role("button", name="Change status").click()
        expect(page.locator("#ticket-status")).to_have_text("Closed")

        def log_entries(action):
            label = page.locator(".activity-action", has_text=re.compile(rf"^{action}$"))
            return page.locator("#activity-log li").filter(has=label)

        expect(log_entries("Pulled with Next ticket")).to_have_text(
            re.compile(r"Ana Souza:\s+Pulled with Next ticket\s+— → Ana Souza")
        )
        expect(log_entries("Reply")).to_have_text(
            re.compile(r"Ana Souza:\s+Reply\s+Hello Carla Cliente,")
        )
        expect(log_entries("Status changed")).to_have_text(
            [
                re.compile(r"Ana Souza:\s+Status changed\s+New → Taken"),
                re.compile(r"Ana Souza:\s+Status changed\s+Taken → In progress"),
                re.compile(r"Ana Souza:\s+Status changed\s+In progress → Closed"),
            ]
        )
        _assert_assets_loaded(page)
    finally:
        page.screenshot(path=artifacts_dir / "agent_journey.png", full_page=True)

    assert page_problems.items == []

    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED
    assert ticket.closed_at is not None
    assert ticket.first_response_at is not None
    assert ticket.assignee == ana
    reply = Message.objects.get(ticket=ticket, kind=Message.Kind.OUTBOUND)
    assert reply.author_user == ana
    assert reply.body_text.replace("\r\n", "\n") == expected_reply
    actions = list(ticket.activity.filter(actor=ana).values_list("action", "before", "after"))
    assert actions == [
        (Action.PULLED, "", "Ana Souza"),
        (Action.STATUS, Status.NEW, Status.TAKEN),
        (Action.REPLY, "", ""),
        (Action.STATUS, Status.TAKEN, Status.IN_PROGRESS),
        (Action.STATUS, Status.IN_PROGRESS, Status.CLOSED),
    ]
    assert not ticket.activity.filter(actor=bruno).exists()
    assert Ticket.objects.waiting().count() == 0


def test_sidebar_forms_load_when_their_section_opens(
    new_context, live_server, sign_in, page_problems, pool, customer
):
    ana = _pool_agent(pool, "ana", "Ana", "Souza")
    bruno = _pool_agent(pool, "bruno", "Bruno", "Costa")
    ticket = create_ticket(subject="Portal shows an error", pool=pool, requester=customer)
    page = page_problems.watch(new_context().new_page())
    sign_in(page, "ana")
    page.goto(f"{live_server.url}/tickets/{ticket.number}/")
    expect(page.locator("#act-assign select")).to_have_count(0)

    # Opening the section fetches its form once; saving it works like any other form.
    with page.expect_response(lambda r: r.url.endswith("/forms/assign/")) as loaded:
        page.get_by_role("button", name="Technician and manager").click()
    assert loaded.value.ok
    section = page.locator("#act-assign")
    section.get_by_label("Technician").select_option(value=str(bruno.pk))
    section.get_by_label("Manager").select_option(value=str(ana.pk))
    section.get_by_role("button", name="Save").click()
    expect(page.locator("#ticket-assignee")).to_have_text("Bruno Costa")

    page.get_by_role("button", name="Priority, pool, topic, product").click()
    page.locator("#act-fields").get_by_label("Priority").select_option(label="Urgent")
    page.locator("#act-fields").get_by_role("button", name="Save").click()
    expect(page.locator(".badge", has_text="Urgent")).to_have_count(1)
    assert page_problems.items == []

    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.manager, ticket.priority) == (bruno, ana, 40)
