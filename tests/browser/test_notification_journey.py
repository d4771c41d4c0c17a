"""An agent's notifications while away reach the substitute, by real SMTP.

Ana sets her notification choices, asks for today off with Bruno as substitute; the
supervisor approves it. Then a customer's invoice mail is routed to Bruno (Ana's skill,
handed to her substitute) and a customer answers on Ana's own ticket: Bruno's inbox (an
SMTP sink) gets both mails, the second on Ana's behalf; Ana gets none. Screenshots at
1280 and 390 px of the notifications page and each step.
"""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from mailboxes.models import NotificationPreference, OutgoingEmail
from mailboxes.outbound import send_outgoing_emails
from people.models import Skill
from tests.conftest import _agent
from tickets import services
from tickets.models import Ticket
from tickets.services import portal
from tickets.services.intake import CustomerMail, receive_customer_messages

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": 1280, "phone": 390}


def _screenshots(page, artifacts_dir, name):
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=artifacts_dir / f"{name}-{label}.png", full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def _named(username, first, last, pool):
    user = _agent(username, pools=[pool])
    user.first_name, user.last_name = first, last
    user.save()
    return user


def test_the_substitute_receives_the_absent_agents_notification_mail(
    new_context, live_server, sign_in, page_problems, artifacts_dir, pool, customer, sink
):
    ana = _named("ana", "Ana", "Souza", pool)
    bruno = _named("bruno", "Bruno", "Lima", pool)
    boss = _agent("boss", role="supervisor")
    ana.agent_profile.skills.add(Skill.objects.create(name="Invoices", keywords="fatura"))
    printer = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Impressora parada", description="Parou.", pool=pool
    )
    services.assign_ticket(printer, agent=ana, actor=boss)
    today = timezone.localdate().isoformat()

    # Ana's choices: the page from her profile, mentions in her digest.
    page = page_problems.watch(sign_in(new_context().new_page(), "ana"))
    page.goto(f"{live_server.url}/me/profile/")
    page.locator("#my-notifications-link").click()
    expect(page.locator("#topic-new_ticket")).to_contain_text("New ticket in my pools")
    expect(page.get_by_label("Off").first).to_be_checked()
    page.locator("#topic-mention").get_by_text("In my digest").click()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".alert").first).to_contain_text("Your notification choices were saved.")
    _screenshots(page, artifacts_dir, "notifications-page")
    assert NotificationPreference.objects.get(user=ana).mention == "digest"

    page.goto(f"{live_server.url}/me/absences/")
    form = page.locator("#absence-form")
    form.get_by_label("First day away").fill(today)
    form.get_by_label("Last day away").fill(today)
    form.get_by_label("Substitute").select_option(label="Bruno Lima")
    form.get_by_role("button", name="Ask for approval").click()
    expect(page.locator("#my-absences")).to_contain_text("awaiting approval")

    chief = page_problems.watch(sign_in(new_context().new_page(), "boss"))
    chief.locator("#nav-team").click()
    chief.locator("#absence-requests").get_by_role("link", name="Decide").click()
    chief.get_by_role("button", name="Approve").click()
    expect(chief.locator("#away-now")).to_contain_text("Substitute: Bruno Lima")
    _screenshots(chief, artifacts_dir, "notifications-absence-approved")

    page.goto(f"{live_server.url}/me/notifications/")
    expect(page.locator("#away-notice")).to_contain_text("Bruno Lima gets your notifications")
    _screenshots(page, artifacts_dir, "notifications-page-away")

    before = set(OutgoingEmail.objects.values_list("pk", flat=True))
    invoice = CustomerMail(
        contact=customer, subject="Fatura em dobro", body_text="A fatura veio duas vezes.",
        pool=pool,
    )  # fmt: skip
    receive_customer_messages([invoice])
    portal.reply_from_portal(printer, contact=customer, body="Ainda não imprime.")
    new = OutgoingEmail.objects.exclude(pk__in=before).filter(internal=True)
    assert send_outgoing_emails([row.pk for row in new])

    to_bruno = {
        message["Subject"]: message.get_content()
        for message in sink.messages
        if message["To"] == bruno.email
    }
    fatura = Ticket.objects.get(subject="Fatura em dobro")
    assert fatura.assignee == bruno
    assert set(to_bruno) == {
        f"Ticket assigned to me: Fatura em dobro {fatura.tag_label}",
        f"Customer wrote: Impressora parada {printer.tag_label}",
    }
    replied = to_bruno[f"Customer wrote: Impressora parada {printer.tag_label}"]
    assert "you stand in for Ana Souza, who is away" in replied
    assert "Ainda não imprime." in replied
    assert not [message for message in sink.messages if message["To"] == ana.email]

    cover = page_problems.watch(sign_in(new_context().new_page(), "bruno"))
    expect(cover.locator("tr", has_text="Fatura em dobro")).to_be_visible()
    cover.goto(f"{live_server.url}/tickets/{printer.number}/")
    expect(cover.locator(".message-body", has_text="Ainda não imprime.")).to_be_visible()
    _screenshots(cover, artifacts_dir, "notifications-substitute-ticket")
