"""Each measure's exact value over the hand-built month of tests/reports/conftest.py."""

import pytest

from reports.measures import compute, ratio
from tests.reports.conftest import PERIOD
from tickets.models import Ticket

HOUR = 3600


def values(keys):
    return compute(Ticket.objects.all(), {"now": PERIOD}, keys)["now"]


def test_counts_of_the_month(month):
    assert {
        key: value
        for key, value in values(
            [
                "open_now",
                "received",
                "received_by_mail",
                "responded",
                "solved",
                "reopened",
                "replied_after_close",
                "solved_on_time_without_consultation",
                "solved_on_time_with_consultation",
                "solved_late_with_consultation",
                "solved_late_without_consultation",
                "consultation_on_time",
                "consultation_late",
                "sla_first_response_met",
                "sla_first_response_breached",
                "sla_resolution_met",
                "sla_resolution_breached",
                "rated",
                "scored",
            ]
        ).items()
    } == {
        "open_now": 1,  # G
        "received": 7,  # A to G, the merged D too
        "received_by_mail": 6,  # not G (portal)
        "responded": 5,  # A, B, C, E, F
        "solved": 5,  # not D (merged) nor G (open)
        "reopened": 1,  # C
        "replied_after_close": 1,  # C
        "solved_on_time_without_consultation": 3,  # A, B, C
        "solved_on_time_with_consultation": 1,  # E
        "solved_late_with_consultation": 0,
        "solved_late_without_consultation": 1,  # F
        "consultation_on_time": 0,
        "consultation_late": 1,  # E
        "sla_first_response_met": 4,  # A and B at the very minute, C, E
        "sla_first_response_breached": 2,  # F, and D: merged after it was due
        "sla_resolution_met": 5,  # C once, though both its clocks were met
        "sla_resolution_breached": 0,
        "rated": 2,
        "scored": 3,
    }


def test_first_response_in_calendar_and_business_time(month):
    result = values(
        [
            "first_response_average", "first_response_median",
            "first_response_business_average", "first_response_business_median",
        ]
    )  # fmt: skip
    # Calendar: A 67 h (the clocks went back), B 42 h, C 1 h, E 0.5 h, F 5 h.
    assert result["first_response_average"] == pytest.approx((67 + 42 + 1 + 0.5 + 5) * HOUR / 5)
    assert result["first_response_median"] == 5 * HOUR
    # Business: A 1 h Friday + 1 h Monday, B the same around the holiday, C 1, E 0.5, F 5.
    assert result["first_response_business_average"] == pytest.approx(
        (2 + 2 + 1 + 0.5 + 5) * HOUR / 5
    )
    assert result["first_response_business_median"] == 2 * HOUR


def test_handling_time_counts_to_the_last_solution(month):
    result = values(
        ["handling_average", "handling_median", "handling_business_average",
         "handling_business_median"]
    )  # fmt: skip
    # Calendar: A 69 h, B 43 h, C 25 h (to its second solution), E 4 h, F 6 h.
    assert result["handling_average"] == pytest.approx((69 + 43 + 25 + 4 + 6) * HOUR / 5)
    assert result["handling_median"] == 25 * HOUR
    # Business: A 1 + 3, B 1 + 2 (not the holiday), C 8 + 1, E 4, F 6.
    assert result["handling_business_average"] == pytest.approx((4 + 3 + 9 + 4 + 6) * HOUR / 5)
    assert result["handling_business_median"] == 4 * HOUR


def test_satisfaction(month):
    result = values(["average_rating", "csat", "nps", "operator_rating", "solved",
                     "replied_after_close", "sla_first_response_met",
                     "sla_first_response_breached"])  # fmt: skip
    assert result["average_rating"] == 4
    assert result["csat"] == 50
    assert result["nps"] == pytest.approx(100 / 3)  # two promoters, one detractor of three
    assert result["operator_rating"] == 4
    assert ratio(result, "replied_after_close_share") == 20
    assert ratio(result, "sla_first_response_met_share") == pytest.approx(400 / 6)


def test_nothing_counts_outside_the_period(month):
    from datetime import date

    from reports.measures import Period

    result = compute(
        Ticket.objects.all(), {"then": Period(date(2026, 9, 1), date(2026, 9, 30))},
        ["received", "solved", "reopened", "rated", "first_response_average"],
    )["then"]  # fmt: skip
    assert result == {
        "received": 0, "solved": 0, "reopened": 0, "rated": 0, "first_response_average": None
    }  # fmt: skip
