"""Breakdown tables: the same measures per topic, product, pool, agent... with links."""

from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from reports.figures import PERIOD_REPORT, measure_keys
from reports.measures import DIMENSIONS, MEASURES, RATIOS, Period, compute, ratio
from reports.scope import Scope
from tickets.states import Channel, Priority

# The queue parameter that selects a dimension's value.
QUEUE_PARAMS = {
    "topic": "topic",
    "product": "product",
    "priority": "priority",
    "pool": "pool",
    "agent": "assignee",
    "sector": "sector",
    "organization": "organization",
    "requester": "requester",
    "channel": "channel",
}

TICKET_COLUMNS = [
    "received",
    "solved",
    "responded",
    "first_response_business_average",
    "handling_business_average",
    "sla_first_response_met_share",
    "sla_resolution_met_share",
    "reopened",
    "replied_after_close",
]
SATISFACTION_COLUMNS = ["rated", "average_rating", "csat", "scored", "nps", "operator_rating"]


@dataclass
class Cell:
    value: object
    unit: str
    link: str = ""


@dataclass
class Table:
    title: str
    columns: list[tuple[str, str, str]]  # key, label, unit
    rows: list[tuple[str, list[Cell]]] = field(default_factory=list)
    total: list[Cell] = field(default_factory=list)

    def chart(self, keys, *, stacked: bool = False) -> dict:
        """The columns ``keys`` per row, as the page's chart draws them (Chart.js data)."""
        positions = [i for i, (key, _label, _unit) in enumerate(self.columns) if key in keys]
        return {
            "stacked": stacked,
            "labels": [label for label, _cells in self.rows],
            "datasets": [
                {
                    "label": self.columns[i][1],
                    "data": [cells[i].value for _label, cells in self.rows],
                }
                for i in positions
            ],
        }

    def export(self) -> tuple[list, list[list]]:
        header = [self.title, *(label for _key, label, _unit in self.columns)]
        body = [[label, *(cell.value for cell in cells)] for label, cells in self.rows]
        return header, [*body, [_("Total"), *(cell.value for cell in self.total)]]


def _column(key: str) -> tuple[str, str, str]:
    if key in RATIOS:
        return key, str(RATIOS[key][2]), "percent"
    return key, str(MEASURES[key].label), MEASURES[key].unit


def _cells(scope: Scope, period: Period, values: dict, keys, params: dict | None) -> list[Cell]:
    cells = []
    for key in keys:
        if key in RATIOS:
            cells.append(Cell(ratio(values, key), "percent"))
            continue
        measure = MEASURES[key]
        link = ""
        if measure.condition is not None and params is not None:
            link = scope.link(key, period, **params)
        value = values.get(key)
        if measure.unit == "count":
            value = value or 0  # a group with no row in this measure's table counts none
        cells.append(Cell(value, measure.unit, link))
    return cells


def _label(dimension: str, row: dict) -> str:
    if row["id"] is None:
        return _("(none)")
    return dimension_label(dimension, row["id"], row["label"])


def dimension_label(dimension: str, value, label) -> str:
    """How a row of ``dimension`` is named: its label, a choice's translated name."""
    if value is None:
        return _("(none)")
    if dimension == "priority":
        return str(Priority(value).label)
    if dimension == "channel":
        return str(Channel(value).label)
    return str(label)


def _table(scope, period, dimension, keys, title) -> Table:
    needed = measure_keys(keys)
    rows = compute(scope.tickets, {"now": period}, needed, dimension=dimension, days=scope.days)
    total = compute(scope.tickets, {"now": period}, needed, days=scope.days)["now"]
    table = Table(title=title, columns=[_column(key) for key in keys])
    for row in rows:
        # A row without a value (no topic...) has no queue filter to link to.
        params = None if row["id"] is None else {QUEUE_PARAMS[dimension]: row["id"]}
        table.rows.append((_label(dimension, row), _cells(scope, period, row["now"], keys, params)))
    table.total = _cells(scope, period, total, keys, {})
    return table


def breakdown_table(scope: Scope, periods: dict, dimension: str, view: str) -> Table:
    keys = SATISFACTION_COLUMNS if view == "satisfaction" else TICKET_COLUMNS
    return _table(scope, periods["now"], dimension, keys, str(DIMENSIONS[dimension][2]))


def period_table(scope: Scope, periods: dict) -> Table:
    """The period report per agent."""
    return _table(scope, periods["now"], "agent", PERIOD_REPORT, _("Agent"))
