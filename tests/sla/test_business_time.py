"""Business-time arithmetic against real calendars: DST, public holidays, weekends, 23:59."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from sla.business_time import (
    NoWorkingTimeError,
    Schedule,
    add_business_time,
    business_seconds_between,
    is_working_time,
)
from sla.models import BusinessCalendar, ClosedDay
from tests.sla.conftest import make_calendar

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
WARSAW = ZoneInfo("Europe/Warsaw")
HOUR = 3600


def local(zone, *args):
    return datetime(*args, tzinfo=zone)


def every_day_all_day(zone_name, db_name):
    return make_calendar(db_name, zone_name, hours=((0, 0, 23, 59),), days=range(7)).schedule()


def test_warsaw_friday_afternoon_plus_two_hours_lands_on_monday_after_the_spring_change(warsaw):
    # 2026-03-27 is a Friday in CET (+1); clocks go to CEST (+2) on Sunday the 29th.
    due = add_business_time(warsaw.schedule(), local(WARSAW, 2026, 3, 27, 16, 0), 2 * HOUR)

    assert due == local(WARSAW, 2026, 3, 30, 10, 0)
    assert due == datetime(2026, 3, 30, 8, 0, tzinfo=UTC)
    assert due.astimezone(WARSAW).utcoffset() == timedelta(hours=2)


def test_warsaw_autumn_change_keeps_working_hours_on_the_wall_clock(warsaw):
    # CEST until Sunday 2026-10-25 03:00, CET after: 09:00 is 07:00 UTC, then 08:00 UTC.
    due = add_business_time(warsaw.schedule(), local(WARSAW, 2026, 10, 23, 16, 30), HOUR)

    assert due == datetime(2026, 10, 26, 8, 30, tzinfo=UTC)


def test_polish_independence_day_is_skipped(warsaw):
    # Wednesday 2026-11-11 is a public holiday in Poland.
    due = add_business_time(warsaw.schedule(), local(WARSAW, 2026, 11, 10, 16, 0), 2 * HOUR)

    assert due == local(WARSAW, 2026, 11, 12, 10, 0)


def test_polish_christmas_eve_2026_is_a_holiday_and_the_weekend_follows(warsaw):
    # 2026-12-24 (Thursday) is a holiday from 2025 on, then 25 and 26, then the weekend.
    due = add_business_time(warsaw.schedule(), local(WARSAW, 2026, 12, 23, 16, 0), 2 * HOUR)

    assert due == local(WARSAW, 2026, 12, 28, 10, 0)


def test_sao_paulo_holiday_weekend_and_historical_dst_start_in_one_deadline(sao_paulo):
    # Thursday 2018-11-01 17:00 (-03). Friday the 2nd is Finados, then the weekend, and
    # on Sunday the 4th Brazil still moved its clocks forward (-02) at midnight.
    due = add_business_time(sao_paulo.schedule(), local(SAO_PAULO, 2018, 11, 1, 17, 0), 2 * HOUR)

    assert due == local(SAO_PAULO, 2018, 11, 5, 10, 0)
    assert due == datetime(2018, 11, 5, 12, 0, tzinfo=UTC)


def test_sao_paulo_lunch_break_is_not_working_time(sao_paulo):
    due = add_business_time(sao_paulo.schedule(), local(SAO_PAULO, 2026, 6, 1, 11, 0), 2 * HOUR)

    assert due == local(SAO_PAULO, 2026, 6, 1, 14, 0)


def test_sao_paulo_state_holiday_counts_only_with_the_subdivision(sao_paulo, db):
    # 9 July (Revolução Constitucionalista) is a holiday in São Paulo state only.
    rio = make_calendar("Rio", "America/Sao_Paulo", country="BR", subdivision="RJ").schedule()
    start = local(SAO_PAULO, 2026, 7, 8, 17, 0)

    assert add_business_time(sao_paulo.schedule(), start, 2 * HOUR) == local(
        SAO_PAULO, 2026, 7, 10, 10, 0
    )
    assert add_business_time(rio, start, 2 * HOUR) == local(SAO_PAULO, 2026, 7, 9, 10, 0)


def test_the_day_sao_paulo_clocks_sprang_forward_had_23_working_hours(db):
    schedule = every_day_all_day("America/Sao_Paulo", "SP 24x7")
    day, next_day = local(SAO_PAULO, 2018, 11, 4, 0, 0), local(SAO_PAULO, 2018, 11, 5, 0, 0)

    assert business_seconds_between(schedule, day, next_day) == 23 * HOUR
    assert add_business_time(schedule, day, 23 * HOUR) == next_day


def test_the_day_sao_paulo_clocks_fell_back_had_25_working_hours(db):
    # DST ended at midnight into 2019-02-17: the hour 23:00-24:00 of the 16th ran twice.
    schedule = every_day_all_day("America/Sao_Paulo", "SP 24x7")
    day, next_day = local(SAO_PAULO, 2019, 2, 16, 0, 0), local(SAO_PAULO, 2019, 2, 17, 0, 0)

    assert business_seconds_between(schedule, day, next_day) == 25 * HOUR
    # 24 hours in, the clock shows 23:00 for the second time (-03).
    due = add_business_time(schedule, day, 24 * HOUR)
    assert due == datetime(2019, 2, 17, 2, 0, tzinfo=UTC)
    on_the_wall = due.astimezone(SAO_PAULO)
    assert (on_the_wall.day, on_the_wall.hour, on_the_wall.fold) == (16, 23, 1)
    assert on_the_wall.utcoffset() == timedelta(hours=-3)


def test_warsaw_spring_and_autumn_days_have_23_and_25_hours(db):
    schedule = every_day_all_day("Europe/Warsaw", "PL 24x7")

    spring = business_seconds_between(
        schedule, local(WARSAW, 2026, 3, 29, 0, 0), local(WARSAW, 2026, 3, 30, 0, 0)
    )
    autumn = business_seconds_between(
        schedule, local(WARSAW, 2026, 10, 25, 0, 0), local(WARSAW, 2026, 10, 26, 0, 0)
    )

    assert (spring, autumn) == (23 * HOUR, 25 * HOUR)


def test_an_interval_ending_at_2359_runs_to_the_end_of_the_day(db):
    evening = make_calendar("Evening", "Europe/Warsaw", hours=((20, 0, 23, 59),), days=range(7))

    due = add_business_time(evening.schedule(), local(WARSAW, 2026, 6, 1, 23, 30), 30 * 60)

    assert due == local(WARSAW, 2026, 6, 2, 0, 0)
    assert add_business_time(
        evening.schedule(), local(WARSAW, 2026, 6, 1, 23, 30), 31 * 60
    ) == local(WARSAW, 2026, 6, 2, 20, 1)


def test_a_custom_closed_day_is_skipped(warsaw):
    ClosedDay.objects.create(calendar=warsaw, date=date(2026, 6, 12), name="Bridge day")

    due = add_business_time(warsaw.schedule(), local(WARSAW, 2026, 6, 11, 16, 0), 2 * HOUR)

    assert due == local(WARSAW, 2026, 6, 15, 10, 0)


def test_time_outside_working_hours_does_not_count(warsaw):
    schedule = warsaw.schedule()
    saturday, monday = local(WARSAW, 2026, 6, 6, 12, 0), local(WARSAW, 2026, 6, 8, 9, 30)

    assert business_seconds_between(schedule, saturday, monday) == 30 * 60
    assert not is_working_time(schedule, saturday)
    assert is_working_time(schedule, monday)


def test_counting_and_adding_agree(sao_paulo):
    schedule = sao_paulo.schedule()
    start = local(SAO_PAULO, 2026, 12, 23, 15, 17)
    for hours in (1, 5, 9, 30, 100):
        due = add_business_time(schedule, start, hours * HOUR)
        assert business_seconds_between(schedule, start, due) == pytest.approx(hours * HOUR)


def test_a_calendar_without_working_time_is_refused_not_looped_over(db):
    empty = Schedule(zone=WARSAW, intervals={})

    with pytest.raises(NoWorkingTimeError):
        add_business_time(empty, datetime(2026, 1, 1, tzinfo=UTC), HOUR)


def test_time_zone_and_holiday_country_are_validated(db):
    from django.core.exceptions import ValidationError

    calendar = BusinessCalendar(name="Bad", time_zone="Mars/Olympus", holiday_country="XX")
    with pytest.raises(ValidationError) as raised:
        calendar.full_clean()

    assert set(raised.value.message_dict) == {"time_zone", "holiday_country"}
    assert time(0) < time(23, 59)
