"""Calendars and policies for the SLA tests: São Paulo and Warsaw, as the demo has them."""

from datetime import time, timedelta

import pytest

from people.models import Department
from sla.models import BusinessCalendar, SlaPolicy, WorkingInterval

# The real Dovecot of the mail tests (started only by the tests that ask for it).
from tests.mailboxes.conftest import (  # noqa: F401 (fixtures)
    _dovecot_server,
    dovecot,
    mail_user,
    make_mailbox,
)

WEEKDAYS = range(5)


def make_calendar(name, zone, *, country="", subdivision="", hours=((9, 0, 18, 0),), days=WEEKDAYS):
    calendar = BusinessCalendar.objects.create(
        name=name, time_zone=zone, holiday_country=country, holiday_subdivision=subdivision
    )
    for day in days:
        for start_h, start_m, end_h, end_m in hours:
            WorkingInterval.objects.create(
                calendar=calendar,
                weekday=day,
                start=time(start_h, start_m),
                end=time(end_h, end_m),
            )
    return calendar


@pytest.fixture
def sao_paulo(db):
    """Mon-Fri 09:00-12:00 and 13:00-18:00 in São Paulo, Brazilian and São Paulo holidays."""
    return make_calendar(
        "São Paulo office",
        "America/Sao_Paulo",
        country="BR",
        subdivision="SP",
        hours=((9, 0, 12, 0), (13, 0, 18, 0)),
    )


@pytest.fixture
def warsaw(db):
    """Mon-Fri 09:00-17:00 in Warsaw with Polish holidays."""
    return make_calendar("Warsaw office", "Europe/Warsaw", country="PL", hours=((9, 0, 17, 0),))


@pytest.fixture
def policy(sao_paulo):
    """Everything: first response in 2 business hours, next in 4, resolution in 2 days."""
    return SlaPolicy.objects.create(
        name="Standard",
        order=100,
        calendar=sao_paulo,
        first_response_minutes=120,
        next_response_minutes=240,
        resolution_minutes=2 * 9 * 60,
        reminder_before=30,
    )


@pytest.fixture
def department(db):
    return Department.objects.create(
        name="Legal", email="legal@acme.test", response_time=timedelta(hours=4)
    )


@pytest.fixture
def events(django_capture_on_commit_callbacks):
    """Run a tickets service and then, as after a real commit, the domain events it fired."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run
