"""An attachment whose name was too long shows, shortened, with a note, on the ticket page."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from mailboxes.models import Mailbox
from mailboxes.processing import process_raw_messages
from people.models import Role
from people.services import create_agent
from tests.browser.conftest import PASSWORD
from tests.factories import PoolFactory
from tests.mailboxes.test_processing import store_raw
from tickets.models import PoolMembership

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
MESSAGE = Path(__file__).parents[1] / "mailboxes" / "messages" / "attachment-long-name.eml"


def test_a_shortened_attachment_name_is_marked_on_the_ticket_page(
    new_context, sign_in, live_server, page_problems, artifacts_dir
):
    pool = PoolFactory(name="Finance")
    mailbox = Mailbox.objects.create(
        name="Finance", pool=pool, from_address="finance@helpdesk.test", kind="maildir"
    )
    ticket = process_raw_messages([store_raw(mailbox, MESSAGE.read_bytes()).pk])[0].ticket
    agent = create_agent(username="ana", password=PASSWORD, role=Role.AGENT)
    PoolMembership.objects.create(pool=pool, user=agent)
    context = new_context()
    page = page_problems.watch(context.new_page())
    sign_in(page, "ana")
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
        note = page.locator(".attachment-shortened")
        expect(note).to_have_text("name shortened")
        expect(note).to_have_attribute("title", ticket.attachments.get().original_filename)
        page.screenshot(
            path=artifacts_dir / f"attachment-name-shortened-{width}.png", full_page=True
        )
    assert page_problems.items == []
