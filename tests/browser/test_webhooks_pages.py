"""An admin sets up a webhook in the product, reads its delivery log and redelivers
(screenshots at 1280 and 390 px)."""

import pytest
from playwright.sync_api import expect

from people.models import Role
from people.services import create_agent
from tests.browser.conftest import PASSWORD
from tests.factories import ContactFactory, PoolFactory
from tests.webhooks.receiver import Receiver, running_receiver
from tickets.services.intake import CustomerMail, receive_customer_messages
from webhooks.models import Delivery, Endpoint

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WIDTHS = {"desktop": 1280, "phone": 390}


def test_an_admin_sets_up_a_webhook_and_redelivers_a_failed_event(
    settings, new_context, sign_in, live_server, page_problems, artifacts_dir, eager_tasks
):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # the receiver listens on loopback
    settings.WEBHOOK_MAX_ATTEMPTS = 1
    create_agent(username="root", password=PASSWORD, role=Role.ADMIN, first_name="Ada")
    billing = PoolFactory(name="Billing")
    PoolFactory(name="Hardware")
    with running_receiver(Receiver()) as receiver:
        page = page_problems.watch(new_context().new_page())
        sign_in(page, "root")
        page.click("#nav-webhooks")
        page.click("#new-webhook")
        page.get_by_label("Name").fill("CRM sync")
        page.get_by_label("URL").fill(receiver.url)
        page.get_by_label("Ticket created").check()
        page.get_by_label("Customer message").check()
        page.get_by_label("Billing").check()
        page.get_by_role("button", name="Save").click()

        secret = page.locator("#webhook-secret code")
        expect(secret).to_contain_text("whsec_")
        receiver.secret = secret.inner_text().strip()
        assert receiver.secret == Endpoint.objects.get().secret

        receiver.script = [200, 200, 500, 500, 200]
        mails = [
            CustomerMail(contact=ContactFactory(), subject=subject, body_text="Hello", pool=billing)
            for subject in ("Invoice twice", "Refund", "New card")
        ]
        receive_customer_messages(mails)  # committed: the events are delivered at once
        assert Delivery.objects.count() == 6
        page.reload()
        log = page.locator("#delivery-log")
        expect(log).to_contain_text("Failed")
        expect(log).to_contain_text("Delivered")
        for name, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=artifacts_dir / f"webhook-log-{name}.png", full_page=True)

        failed = Delivery.objects.filter(state="failed").count()
        assert failed == 2
        page.set_viewport_size({"width": 1280, "height": 900})
        log.get_by_role("button", name="Redeliver").first.click()
        expect(page.locator(".alert-success")).to_contain_text("sent again")
        assert Delivery.objects.filter(state="delivered").count() == 5
        assert all(got.valid for got in receiver.received)

        page.click("#nav-webhooks")
        expect(page.locator("#webhook-endpoints")).to_contain_text("CRM sync")
        for name, width in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": 700})
            page.screenshot(path=artifacts_dir / f"webhook-list-{name}.png", full_page=True)
    assert page_problems.items == []
