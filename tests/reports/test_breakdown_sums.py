"""A randomised month: the rows of every breakdown add up to the global figures."""

import pytest

from reports.measures import DIMENSIONS, MEASURES, compute
from tests.reports.conftest import RANDOM_PERIOD
from tickets.models import Ticket

PERIOD = RANDOM_PERIOD
COUNTS = [key for key, measure in MEASURES.items() if measure.condition is not None]


@pytest.mark.parametrize("dimension", list(DIMENSIONS))
def test_breakdown_rows_add_up_to_the_global_figures(random_month, dimension):
    tickets = Ticket.objects.all()
    keys = [*COUNTS, "first_response_average"]
    total = compute(tickets, {"now": PERIOD}, keys)["now"]
    rows = compute(tickets, {"now": PERIOD}, keys, dimension=dimension)
    assert total["received"] > 0
    for key in COUNTS:
        assert sum(row["now"].get(key) or 0 for row in rows) == total[key], key
    weighted = sum(
        (row["now"].get("first_response_average") or 0) * (row["now"].get("responded") or 0)
        for row in rows
    )
    assert weighted == pytest.approx(total["first_response_average"] * total["responded"])
