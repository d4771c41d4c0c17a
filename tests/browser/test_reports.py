"""A supervisor reads the indicators, follows a figure to its tickets, and reads the
breakdowns and the period report; each page is photographed at desktop and phone width."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from people.models import Role
from people.services import create_agent
from reports.services import refresh_facts
from sla.models import Deadline
from surveys.models import Answer, Question, Questionnaire, Response
from tests.browser.conftest import PASSWORD
from tests.factories import ContactFactory, PoolFactory, TicketFactory
from tickets.models import PoolMembership
from tickets.states import Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def seed(now):
    """Forty tickets of the last days in three pools, worked by two agents."""
    rng = random.Random(7)
    pools = [PoolFactory(name=name) for name in ("Billing", "Fiber", "Mobile")]
    agents = []
    for name in ("ana", "bruno"):
        agent = create_agent(username=name, password=PASSWORD, first_name=name.title())
        for pool in pools:
            PoolMembership.objects.create(pool=pool, user=agent)
        agents.append(agent)
    survey = Questionnaire.objects.create(name="CSAT", kind=Questionnaire.Kind.SATISFACTION)
    rating = Question.objects.create(questionnaire=survey, text="Rate us", kind="rating")
    contacts = ContactFactory.create_batch(5)
    ids = []
    for _ in range(40):
        created = now - timedelta(hours=rng.randrange(1, 24 * 20))
        solved = rng.random() < 0.7
        answered = created + timedelta(minutes=rng.randrange(5, 600))
        ticket = TicketFactory(
            pool=rng.choice(pools), assignee=rng.choice(agents), requester=rng.choice(contacts),
            created_at=created, first_response_at=min(answered, now),
            status=Status.RESOLVED if solved else Status.IN_PROGRESS,
            resolved_at=min(answered + timedelta(hours=rng.randrange(1, 30)), now)
            if solved else None,
        )  # fmt: skip
        Deadline.objects.create(
            ticket=ticket, pool=ticket.pool, target="first_response", budget_seconds=7200,
            state=Deadline.State.MET, met_at=ticket.first_response_at,
            breached_at=ticket.first_response_at if rng.random() < 0.2 else None,
        )  # fmt: skip
        if solved and rng.random() < 0.6:
            response = Response.objects.create(
                questionnaire=survey, kind=survey.kind, ticket=ticket, agent=ticket.assignee,
                pool=ticket.pool, created_at=ticket.resolved_at,
            )  # fmt: skip
            Answer.objects.create(response=response, question=rating, number=rng.randint(2, 5))
        ids.append(ticket.pk)
    refresh_facts(ids)


def shoot(page, artifacts_dir, name):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=artifacts_dir / f"reports-{name}-desktop.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=artifacts_dir / f"reports-{name}-390.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_supervisor_follows_a_figure_to_the_tickets_it_counts(
    new_context, sign_in, live_server, page_problems, artifacts_dir
):
    seed(timezone.now())
    create_agent(username="boss", password=PASSWORD, role=Role.SUPERVISOR, first_name="Bea")
    page = page_problems.watch(new_context().new_page())
    sign_in(page, "boss")
    page.click("#nav-reports")
    page.select_option("#id_period", "last30")
    page.get_by_role("button", name="Show").click()
    received = page.locator("#figure-received [data-value] a")
    expect(received).to_have_text("40")
    shoot(page, artifacts_dir, "dashboard")
    page.get_by_role("link", name="Breakdowns").click()
    page.select_option("#id_by", "pool")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#report-table")).to_contain_text("Fiber")
    # The chart draws the table's figures (Chart.js, shipped under static/vendor).
    chart = "Chart.getChart(document.getElementById('report-chart'))"
    page.wait_for_function(f"typeof Chart !== 'undefined' && {chart} !== undefined")
    assert page.evaluate(f"{chart}.data.labels") == ["Billing", "Fiber", "Mobile"]
    shoot(page, artifacts_dir, "breakdown")
    page.get_by_role("link", name="Satisfaction").click()
    page.select_option("#id_by", "agent")
    page.get_by_role("button", name="Show").click()
    expect(page.locator("#report-table")).to_contain_text("ana")
    shoot(page, artifacts_dir, "satisfaction")
    page.get_by_role("link", name="Period report").click()
    expect(page.locator("#period-figures")).to_contain_text("Solved on time")
    shoot(page, artifacts_dir, "period")
    page.get_by_role("link", name="Indicators").click()
    page.select_option("#id_period", "last30")
    page.get_by_role("button", name="Show").click()
    page.locator("#figure-solved [data-value] a").click()
    solved = page.locator("#figure-solved")
    expect(page.locator("#matches")).to_be_visible()
    shoot(page, artifacts_dir, "drilldown")
    assert solved.count() == 0
    assert page_problems.items == []


def test_a_supervisor_builds_saves_and_shares_a_custom_report(
    new_context, sign_in, live_server, page_problems, artifacts_dir
):
    seed(timezone.now())
    create_agent(username="boss", password=PASSWORD, role=Role.SUPERVISOR, first_name="Bea")
    create_agent(username="chief", password=PASSWORD, role=Role.SUPERVISOR, first_name="Carl")
    page = page_problems.watch(new_context().new_page())
    sign_in(page, "boss")
    page.click("#nav-reports")
    page.click("#tab-custom")
    # Build: three measures, by pool then by agent, over the last 30 days.
    page.select_option("#id_measures", ["received", "solved", "handling_business_average"])
    page.select_option("#id_group_by", "pool")
    page.select_option("#id_then_by", "agent")
    page.select_option("#id_period", "last30")
    page.click("#show-report")
    table = page.locator("#report-table")
    expect(table).to_contain_text("Fiber")
    expect(table.locator("tfoot")).to_contain_text("40")
    chart = "Chart.getChart(document.getElementById('report-chart'))"
    page.wait_for_function(f"typeof Chart !== 'undefined' && {chart} !== undefined")
    assert page.evaluate(f"{chart}.data.labels") == ["Billing", "Fiber", "Mobile"]
    assert page.evaluate(f"{chart}.data.datasets.map(d => d.label)") == ["ana", "bruno"]
    shoot(page, artifacts_dir, "custom-built")
    # Save it by name, then share it with the other supervisor and mail it monthly.
    page.fill("#id_name", "Load per pool and agent")
    page.click("#save-report")
    expect(page.locator("h1")).to_contain_text("Load per pool and agent")
    expect(page.locator("#saved-reports")).to_contain_text("Load per pool and agent")
    page.get_by_label("Carl").check()
    page.select_option("#id_schedule", "monthly")
    page.click("#save-sharing")
    expect(page.locator(".alert-success")).to_contain_text("Sharing and schedule saved")
    shoot(page, artifacts_dir, "custom-saved")
    # The other supervisor finds it among their reports and opens it.
    other = page_problems.watch(new_context().new_page())
    sign_in(other, "chief")
    other.goto(f"{live_server.url}/reports/custom/")
    other.get_by_role("link", name="Load per pool and agent").click()
    expect(other.locator("#shared-by")).to_contain_text("Bea")
    expect(other.locator("#report-table tfoot")).to_contain_text("40")
    assert other.locator("#sharing-form").count() == 0
    # A number opens the queue with the same filters, listing as many tickets.
    link = other.locator("#report-table tbody td a").first
    shown = link.inner_text()
    link.click()
    expect(other.locator("#matches")).to_contain_text(f"{shown} tickets")
    other.go_back()
    shoot(other, artifacts_dir, "custom-shared")
    assert page_problems.items == []
