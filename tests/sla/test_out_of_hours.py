"""The auto-reply to a new ticket carries the calendar's out-of-hours text, out of hours only."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from mailboxes import outbound
from mailboxes.models import EmailTemplate, Mailbox
from tickets import services

SP = ZoneInfo("America/Sao_Paulo")
TEXT = "Estamos fora do horário: responderemos no próximo dia útil."


@pytest.fixture
def mailbox(pool):
    return Mailbox.objects.create(name="Billing", pool=pool, from_address="billing@acme.test")


@pytest.fixture
def with_text(policy, sao_paulo):
    sao_paulo.out_of_hours_reply = TEXT
    sao_paulo.save()


def auto_reply_at(moment, pool, customer, mailbox):
    with time_machine.travel(moment, tick=False):
        ticket = services.create_ticket(subject="Boleto", pool=pool, requester=customer)
        request = outbound.AutoReplyRequest(
            ticket=ticket, mailbox=mailbox, to_address=customer.primary_email, may_auto_reply=True
        )
        return next(iter(outbound.queue_auto_replies([request])), None)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 6, 1, 20, 0, tzinfo=SP),  # Monday evening
        datetime(2026, 6, 6, 11, 0, tzinfo=SP),  # Saturday
        datetime(2026, 9, 7, 11, 0, tzinfo=SP),  # Independence Day (a Monday)
        datetime(2026, 6, 1, 12, 30, tzinfo=SP),  # lunch break
    ],
)
def test_out_of_hours_text_is_added_outside_working_time(
    with_text, pool, customer, mailbox, moment
):
    reply = auto_reply_at(moment, pool, customer, mailbox)

    assert TEXT in reply.body_text
    assert "fora do hor" in reply.body_html


def test_no_out_of_hours_text_in_working_hours(with_text, pool, customer, mailbox):
    reply = auto_reply_at(datetime(2026, 6, 1, 10, 0, tzinfo=SP), pool, customer, mailbox)

    assert TEXT not in reply.body_text


def test_an_admin_template_can_place_the_text(with_text, pool, customer, mailbox):
    EmailTemplate.objects.create(
        kind=EmailTemplate.Kind.AUTO_REPLY, language="en",
        subject="Got it", body_text="Ticket {{ ticket.number }}. {{ out_of_hours }}",
    )  # fmt: skip
    mailbox.language = "en"
    mailbox.save()

    reply = auto_reply_at(datetime(2026, 6, 1, 22, 0, tzinfo=SP), pool, customer, mailbox)

    assert reply.body_text.strip().endswith(TEXT)
