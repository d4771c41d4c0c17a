"""An admin edits one kind of automatic mail in the one template admin (screenshots, 1280
and 390 px): the variables of that kind are listed beside the editor."""

import pytest
from playwright.sync_api import expect

from mailboxes.models import EmailTemplate, Mailbox
from people.roles import Role
from people.services import create_agent
from tests.browser.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": 1280, "phone": 390}
Kind = EmailTemplate.Kind


def test_an_admin_writes_a_pool_s_notification_text_beside_its_variables(
    browser, live_server, page_problems, artifacts_dir, pool
):
    mailbox = Mailbox.objects.create(name="Billing", pool=pool, from_address="b@acme.test")
    EmailTemplate.objects.create(
        kind=Kind.AUTO_REPLY, language="en", mailbox=mailbox, subject="Got it", body_text="Thanks"
    )
    EmailTemplate.objects.create(
        kind=Kind.SLA_BREACH, language="pl", subject="Termin minął", body_text="{{ target }}"
    )
    create_agent(username="root", password=PASSWORD, email="root@helpdesk.test", role=Role.ADMIN)
    for name, width in WIDTHS.items():
        context = browser.new_context(
            locale="en-US", timezone_id="UTC", viewport={"width": width, "height": 900}
        )
        context.set_default_timeout(15_000)
        page = page_problems.watch(context.new_page())
        page.goto(f"{live_server.url}/admin/login/")
        page.locator("#id_username").fill("root")
        page.locator("#id_password").fill(PASSWORD)
        page.locator("input[type=submit]").click()
        page.goto(f"{live_server.url}/admin/mailboxes/emailtemplate/")
        expect(page.locator("#result_list")).to_contain_text("Termin minął")
        page.screenshot(path=artifacts_dir / f"email-templates-list-{name}.png", full_page=True)
        page.goto(
            f"{live_server.url}/admin/mailboxes/emailtemplate/add/?kind={Kind.TICKET_RESOLVED}"
        )
        expect(page.locator(".field-body_text")).to_contain_text("{{ recipient_name }}")
        page.locator("#id_language").select_option("en")
        page.locator("#id_pool").select_option(str(pool.pk))
        page.locator("#id_subject").fill(f"Solved ({name}): {{{{ ticket.subject }}}}")
        page.locator("#id_body_text").fill("Hello {{ recipient_name }}, see {{ link }}")
        page.locator("#id_body_html").fill("<p>Hello {{ recipient_name }}</p>")
        page.screenshot(path=artifacts_dir / f"email-template-edit-{name}.png", full_page=True)
        page.locator("input[name=_save]").click()
        expect(page.locator(".messagelist")).to_contain_text("was added successfully")
        context.close()
    saved = EmailTemplate.objects.filter(kind=Kind.TICKET_RESOLVED)
    assert sorted(saved.values_list("subject", "pool")) == [
        ("Solved (desktop): {{ ticket.subject }}", pool.pk),
        ("Solved (phone): {{ ticket.subject }}", pool.pk),
    ]
    # Django's admin has no favicon: the browser's guess at /favicon.ico is not ours.
    assert [item for item in page_problems.items if "favicon.ico" not in item] == []
