"""The customer's side in a real browser: open a ticket with a file, get an answer, approve,
answer the survey. The agent answers in between, filling the pool's disposition form."""

import re

import pytest
from playwright.sync_api import expect

from people.services import create_agent, create_customer_account
from surveys.models import (
    Dictionary,
    DictionaryItem,
    PoolSurveySettings,
    Question,
    Questionnaire,
    Response,
)
from tests.browser.conftest import PASSWORD
from tickets.models import Attachment, Message, PoolMembership, Ticket
from tickets.states import Channel, Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _surveys(pool):
    satisfaction = Questionnaire.objects.create(
        name="How did we do?", kind=Questionnaire.Kind.SATISFACTION
    )
    Question.objects.create(
        questionnaire=satisfaction, position=0, text="How satisfied are you?", kind="rating"
    )
    Question.objects.create(
        questionnaire=satisfaction, position=1, text="Any comments?", kind="text", required=False
    )
    partners = Dictionary.objects.create(name="Partners")
    DictionaryItem.objects.create(dictionary=partners, label="Loja Azul")
    disposition = Questionnaire.objects.create(
        name="Closing the ticket", kind=Questionnaire.Kind.DISPOSITION
    )
    Question.objects.create(
        questionnaire=disposition, text="Which partner?", kind="single_choice", dictionary=partners
    )
    PoolSurveySettings.objects.create(
        pool=pool,
        satisfaction_enabled=True,
        satisfaction_questionnaire=satisfaction,
        disposition_questionnaire=disposition,
        disposition_required=True,
    )


def _portal_sign_in(page, base_url, username):
    page.goto(f"{base_url}/portal/")
    expect(page).to_have_url(re.compile(r"/portal/login/"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/portal/")


def test_customer_opens_a_ticket_gets_an_answer_approves_and_rates_it(
    new_context,
    live_server,
    sign_in,
    page_problems,
    artifacts_dir,
    pool,
    customer,
    settings,
    eager_tasks,
):
    settings.SITE_URL = live_server.url
    _surveys(pool)
    pool.customers_set_priority = True  # the priority field shows for this department
    pool.customer_name = "Billing"
    pool.save()
    create_customer_account(customer, username="carla", password=PASSWORD)
    ana = create_agent(username="ana", password=PASSWORD, first_name="Ana", last_name="Souza")
    PoolMembership.objects.create(pool=pool, user=ana)
    base = live_server.url

    page = page_problems.watch(new_context().new_page())
    agent_page = None
    try:
        _portal_sign_in(page, base, "carla")
        page.locator("#open-ticket").click()
        form = page.locator("#portal-ticket-form")
        form.get_by_label("Department").select_option(label="Billing")
        form.get_by_label("Priority").select_option(label="High")
        form.get_by_label("Subject").fill("Invoice charged twice")
        form.get_by_label("Description").fill("I was charged twice for October.")
        form.get_by_label("Files").set_input_files(
            {"name": "statement.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 x"}
        )
        page.screenshot(path=artifacts_dir / "portal_new_ticket.png", full_page=True)
        form.get_by_role("button", name="Send").click()
        ticket = Ticket.objects.get()
        expect(page).to_have_url(f"{base}/portal/tickets/{ticket.number}/")
        expect(page.locator("#ticket-status")).to_have_text("New")
        expect(page.locator("#thread")).to_contain_text("I was charged twice for October.")
        expect(page.get_by_role("link", name="statement.pdf")).to_be_visible()

        # The agent answers, fills the pool's disposition form and resolves.
        agent_page = page_problems.watch(new_context().new_page())
        sign_in(agent_page, "ana")
        agent_page.goto(f"{base}/tickets/{ticket.number}/")
        expect(agent_page.locator("article.kind-inbound")).to_contain_text("charged twice")
        agent_page.locator("#reply-form textarea[name=body]").fill(
            "Sorry! We refunded the second charge."
        )
        agent_page.locator("#send-reply").click()
        expect(agent_page.get_by_role("alert").first).to_contain_text("Your reply was saved")
        panel = agent_page.locator("#panel-disposition")
        expect(panel).to_contain_text("Required before the ticket is resolved or closed.")
        panel.get_by_role("link").click()
        agent_page.get_by_label("Loja Azul").check()
        agent_page.locator("#save-and-resolve").click()
        expect(agent_page.locator("#ticket-status")).to_have_text("Resolved")

        # The customer sees the answer and approves: the ticket closes and the survey opens.
        page.reload()
        expect(page.locator("#ticket-status")).to_have_text("Resolved")
        expect(page.locator("#thread")).to_contain_text("We refunded the second charge.")
        page.screenshot(path=artifacts_dir / "portal_resolved.png", full_page=True)
        page.locator("#approve-resolution").click()
        expect(page.get_by_role("alert").first).to_contain_text("The ticket is closed.")
        expect(page.locator("#ticket-status")).to_have_text("Closed")
        page.locator("#panel-survey").get_by_role("link", name="Answer the survey").click()
        survey = page.locator("#survey-form")
        survey.get_by_label("4").check()
        survey.get_by_label("Any comments?").fill("Quick and kind.")
        page.screenshot(path=artifacts_dir / "portal_survey_form.png", full_page=True)
        survey.get_by_role("button", name="Send my answers").click()
        expect(page.locator("#survey-thanks")).to_be_visible()
        page.screenshot(path=artifacts_dir / "portal_survey_answered.png", full_page=True)
    finally:
        page.screenshot(path=artifacts_dir / "portal_journey.png", full_page=True)
        if agent_page is not None:
            agent_page.screenshot(path=artifacts_dir / "portal_journey_agent.png", full_page=True)

    assert page_problems.items == []
    ticket.refresh_from_db()
    assert (ticket.status, ticket.channel, ticket.requester) == (
        Status.CLOSED,
        Channel.PORTAL,
        customer,
    )
    assert Attachment.objects.get(ticket=ticket).filename == "statement.pdf"
    kinds = list(ticket.messages.values_list("kind", flat=True))
    assert kinds == [Message.Kind.INBOUND, Message.Kind.OUTBOUND]
    answers = Response.objects.get(kind="satisfaction").answers.order_by("question__position")
    assert [(a.number, a.text) for a in answers] == [(4, ""), (None, "Quick and kind.")]
    assert Response.objects.get(kind="disposition").agent == ana
