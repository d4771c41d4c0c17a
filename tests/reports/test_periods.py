"""Periods by name, the period before each, and figures in the reader's locale."""

from datetime import date

import pytest
from django.utils import translation

from reports.measures import Period
from reports.periods import PeriodForm, choose
from reports.templatetags.report_tags import report_value

THURSDAY = date(2026, 12, 3)


@pytest.mark.parametrize(
    ("language", "first_day"),
    [("en", date(2026, 11, 29)), ("pt-br", date(2026, 11, 29)), ("pl", date(2026, 11, 30))],
)
def test_this_week_starts_on_the_locales_first_day(language, first_day):
    with translation.override(language):
        current, before = choose("week", THURSDAY)
    assert current == Period(first_day, THURSDAY)
    assert before == Period(date.fromordinal(first_day.toordinal() - 7), date(2026, 11, 26))


def test_this_month_is_compared_with_the_same_days_of_the_month_before():
    assert choose("month", date(2026, 3, 31)) == (
        Period(date(2026, 3, 1), date(2026, 3, 31)),
        Period(date(2026, 2, 1), date(2026, 2, 28)),
    )


def test_today_last_30_days_and_a_custom_range():
    assert choose("today", THURSDAY)[1] == Period(date(2026, 12, 2), date(2026, 12, 2))
    assert choose("last30", THURSDAY) == (
        Period(date(2026, 11, 4), THURSDAY),
        Period(date(2026, 10, 5), date(2026, 11, 3)),
    )
    form = PeriodForm({"period": "custom", "start": "2026-11-10", "end": "2026-11-12"})
    assert form.periods() == (
        Period(date(2026, 11, 10), date(2026, 11, 12)),
        Period(date(2026, 11, 7), date(2026, 11, 9)),
    )


def test_a_custom_range_backwards_is_refused():
    form = PeriodForm({"period": "custom", "start": "2026-11-12", "end": "2026-11-10"})
    assert not form.is_valid()


def test_figures_are_written_in_the_readers_locale():
    with translation.override("pl"):
        assert report_value(3.456, "rating") == "3,46"
        assert report_value(12345, "count") == "12\xa0345"
        assert report_value(66.666, "percent") == "66,7 %"
    with translation.override("en"):
        assert report_value(3.456, "rating") == "3.46"
        assert report_value(3 * 3600 + 5 * 60, "seconds") == "3 h 05 min"
        assert report_value(2 * 86400 + 3 * 3600, "seconds") == "2 d 3 h"
        assert report_value(None, "seconds") == "—"
