"""all_or_nothing(): services without savepoints, activity rows in one INSERT, rolled back whole."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from tests.concurrency import run_at_once
from tests.conftest import require_postgresql
from tickets import services
from tickets.models import ActivityLog, Ticket, TicketSequence
from tickets.services.audit import log_activity
from tickets.services.numbering import next_ticket_number
from tickets.services.transactions import all_or_nothing
from tickets.states import Status

Action = ActivityLog.Action


def _savepoints(queries) -> list[str]:
    return [q["sql"] for q in queries if "SAVEPOINT" in q["sql"].upper()]


def test_services_inside_the_unit_open_no_savepoint_of_their_own(pool, customer, agent):
    next_ticket_number()  # the year's counter exists (creating it takes a savepoint)
    with CaptureQueriesContext(connection) as queries, all_or_nothing():
        ticket = services.create_ticket(subject="Printer", pool=pool, requester=customer)
        services.add_customer_message(ticket, contact=customer, body_text="Still on fire")
        services.change_status(ticket, to=Status.CANCELLED, actor=agent)
    # The test's own transaction makes the unit a savepoint: that pair is all there is.
    assert len(_savepoints(queries)) == 2
    actions = list(ticket.activity.values_list("action", flat=True))
    assert actions == [Action.CREATED, Action.CUSTOMER_MESSAGE, Action.STATUS]


def test_activity_rows_of_a_unit_are_inserted_together_at_its_end(pool, customer):
    with CaptureQueriesContext(connection) as queries, all_or_nothing():
        ticket = services.create_ticket(subject="Printer", pool=pool, requester=customer)
        log_activity(ticket, actor=None, action=Action.CLASSIFIED, detail="why")
        assert not ActivityLog.objects.filter(ticket=ticket).exists()
    inserts = [q for q in queries if q["sql"].startswith('INSERT INTO "tickets_activitylog"')]
    assert len(inserts) == 1
    assert list(ticket.activity.values_list("action", flat=True)) == [
        Action.CREATED,
        Action.CLASSIFIED,
    ]


def test_an_error_in_the_unit_rolls_back_everything_it_did(pool, customer):
    before = TicketSequence.objects.values_list("last", flat=True).first()
    with pytest.raises(RuntimeError), all_or_nothing():
        services.create_ticket(subject="Printer", pool=pool, requester=customer)
        raise RuntimeError("mail could not be processed")
    assert Ticket.objects.count() == 0
    assert ActivityLog.objects.count() == 0
    assert TicketSequence.objects.values_list("last", flat=True).first() == before


def test_a_row_logged_inside_a_caught_savepoint_lives_and_dies_with_it(pool, customer):
    with all_or_nothing():
        ticket = services.create_ticket(subject="Printer", pool=pool, requester=customer)
        try:
            with transaction.atomic():
                log_activity(ticket, actor=None, action=Action.NOTE, detail="rolled back")
                raise IntegrityError("caught by the caller")
        except IntegrityError:
            pass
        with transaction.atomic():
            log_activity(ticket, actor=None, action=Action.NOTE, detail="kept")
    details = list(ticket.activity.filter(action=Action.NOTE).values_list("detail", flat=True))
    assert details == ["kept"]


def test_units_do_not_nest():
    with pytest.raises(RuntimeError), all_or_nothing(), all_or_nothing():
        pass


def test_services_outside_a_unit_still_write_their_log_at_once(pool, customer):
    with transaction.atomic():
        ticket = services.create_ticket(subject="Printer", pool=pool, requester=customer)
        assert ticket.activity.filter(action=Action.CREATED).exists()


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
            with all_or_nothing():
                ticket = services.create_ticket(subject="x", pool=pool, requester=customer)
            numbers.append(ticket.number)
        return numbers

    batches = run_at_once([create_ten] * 4, timeout=60)
    numbers = [number for batch in batches for number in batch]
    assert len(numbers) == len(set(numbers)) == 40
