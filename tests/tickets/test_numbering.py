"""Ticket numbers: one counter a year, never shared, given back with a rolled-back ticket."""

from datetime import UTC, datetime

import pytest
from django.db import transaction

from tests.concurrency import run_at_once
from tests.conftest import require_postgresql
from tickets import services
from tickets.models import ActivityLog, Ticket, TicketSequence
from tickets.services.numbering import next_ticket_number


def test_a_ticket_rolled_back_with_its_transaction_leaves_no_row_and_no_number(pool, customer):
    before = TicketSequence.objects.values_list("last", flat=True).first()
    with pytest.raises(RuntimeError), transaction.atomic():
        services.create_ticket(subject="Printer", pool=pool, requester=customer)
        raise RuntimeError("mail could not be processed")
    assert Ticket.objects.count() == 0
    assert ActivityLog.objects.count() == 0
    assert TicketSequence.objects.values_list("last", flat=True).first() == before


def test_the_first_number_of_a_year_creates_its_counter(db):
    TicketSequence.objects.filter(year=2031).delete()
    now = datetime(2031, 1, 1, tzinfo=UTC)
    assert next_ticket_number(now) == "2031-000001"
    assert next_ticket_number(now) == "2031-000002"
    assert TicketSequence.objects.get(year=2031).last == 2


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_concurrent_creators_never_share_a_number(pool, customer):
    require_postgresql()

    def create_ten():
        numbers = []
        for _ in range(10):
            with transaction.atomic(durable=True):
                ticket = services.create_ticket(subject="x", pool=pool, requester=customer)
            numbers.append(ticket.number)
        return numbers

    batches = run_at_once([create_ten] * 4, timeout=60)
    numbers = [number for batch in batches for number in batch]
    assert len(numbers) == len(set(numbers)) == 40
