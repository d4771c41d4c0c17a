"""An agent plans an absence, the supervisor approves it, the substitute gets the new work.

Ana (the skill that matches invoices) asks for today off with Bruno as substitute; the
supervisor approves it on the Team page; a customer's invoice mail then goes to Bruno,
and Ana's Next ticket says why it hands her nothing. Screenshots at 1280 and 390 px.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from people.models import Absence, Skill
from tests.conftest import _agent
from tickets.models import Ticket
from tickets.services.intake import CustomerMail, receive_customer_messages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": 1280, "phone": 390}


def _screenshots(page, artifacts_dir, name):
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=artifacts_dir / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def test_an_approved_absence_sends_the_agents_new_ticket_to_the_substitute(
    new_context, live_server, sign_in, page_problems, artifacts_dir, pool, customer
):
    ana = _agent("ana", pools=[pool])
    ana.first_name, ana.last_name = "Ana", "Souza"
    ana.save()
    bruno = _agent("bruno", pools=[pool])
    bruno.first_name, bruno.last_name = "Bruno", "Lima"
    bruno.save()
    _agent("boss", role="supervisor")
    skill = Skill.objects.create(name="Invoices", keywords="fatura")
    ana.agent_profile.skills.add(skill)
    today = timezone.localdate().isoformat()

    page = page_problems.watch(sign_in(new_context().new_page(), "ana"))
    page.goto(f"{live_server.url}/me/absences/")
    form = page.locator("#absence-form")
    form.get_by_label("First day away").fill(today)
    form.get_by_label("Last day away").fill(today)
    form.get_by_label("Substitute").select_option(label="Bruno Lima")
    form.get_by_label("Reason (optional)").fill("Doctor")
    form.get_by_role("button", name="Ask for approval").click()
    expect(page.locator("#my-absences")).to_contain_text("awaiting approval")
    _screenshots(page, artifacts_dir, "absence-request")
    # On a phone the Withdraw button is on the screen, not beyond its right edge.
    page.set_viewport_size({"width": 390, "height": 900})
    withdraw = page.locator("#my-absences").get_by_role("button", name="Withdraw")
    box = withdraw.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    page.set_viewport_size({"width": 1366, "height": 900})

    boss = page_problems.watch(sign_in(new_context().new_page(), "boss"))
    boss.locator("#nav-team").click()
    expect(boss.locator("#absence-requests")).to_contain_text("Ana Souza")
    _screenshots(boss, artifacts_dir, "absence-team")
    boss.locator("#absence-requests").get_by_role("link", name="Decide").click()
    boss.get_by_role("button", name="Approve").click()
    expect(boss.locator("#away-now")).to_contain_text("Ana Souza")
    expect(boss.locator("#away-now")).to_contain_text("Substitute: Bruno Lima")
    _screenshots(boss, artifacts_dir, "absence-approved")
    assert Absence.objects.get().state == Absence.State.APPROVED

    mail = CustomerMail(
        contact=customer, subject="Fatura em dobro", body_text="A fatura veio duas vezes.",
        pool=pool,
    )  # fmt: skip
    receive_customer_messages([mail])
    ticket = Ticket.objects.get()
    assert ticket.assignee == bruno

    cover = page_problems.watch(sign_in(new_context().new_page(), "bruno"))
    expect(cover.locator("tr", has_text="Fatura em dobro")).to_be_visible()

    page.goto(f"{live_server.url}/tickets/")
    page.get_by_role("button", name="Next ticket").click()
    expect(page.locator(".alert").first).to_contain_text("You are recorded as away until")
    _screenshots(page, artifacts_dir, "absence-next-ticket")
