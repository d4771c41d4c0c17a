"""The supervisor's overdue dashboard refreshes itself in a real browser (htmx polling)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from people.models import Role
from people.services import create_agent
from sla.models import Deadline
from tests.browser.conftest import PASSWORD
from tests.factories import PoolFactory, TicketFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_new_overdue_ticket_appears_in_red_without_a_reload(
    settings, new_context, sign_in, live_server, page_problems
):
    settings.SLA_DASHBOARD_REFRESH_SECONDS = 1
    create_agent(username="boss", password=PASSWORD, role=Role.SUPERVISOR, first_name="Bea")
    page = page_problems.watch(new_context().new_page())
    sign_in(page, "boss")
    page.click("#nav-overdue")
    expect(page.locator("#overdue-table")).to_contain_text("No deadline is overdue")
    page.evaluate("window.notReloaded = true")

    ticket = TicketFactory(pool=PoolFactory(name="Fiber"), subject="Fiber down in Osasco")
    Deadline.objects.create(
        ticket=ticket, pool_id=ticket.pool_id, target="resolution", budget_seconds=3600,
        running_since=timezone.now() - timedelta(hours=2),
        due_at=timezone.now() - timedelta(hours=1),
    )  # fmt: skip

    row = page.locator("#overdue-table tr.deadline-overdue")
    expect(row).to_contain_text("Fiber down in Osasco", timeout=10_000)
    expect(row).to_have_class("deadline-overdue table-danger")
    expect(row.locator(".bi-exclamation-triangle-fill")).to_be_visible()
    expect(page.locator("#pool-counts")).to_contain_text("Fiber")
    assert page.evaluate("window.notReloaded") is True
    row.get_by_role("link", name=ticket.tag_label).click()
    expect(page).to_have_url(f"{live_server.url}{ticket.get_absolute_url()}")
    assert page_problems.items == []
