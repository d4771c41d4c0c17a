"""Custom reports: the measures a supervisor picks, grouped by one or two dimensions or by
day, week or month, over a filtered period; a table, its chart, and the same as a PDF.

Computed with ``reports.measures.compute`` like every other page (one query per source
for the rows, one for the total), in the reader's scope: a saved report holds parameters,
never figures, so whoever reads it sees only what they may see.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django import forms
from django.http import QueryDict
from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from people.models import Organization
from reports.figures import measure_keys
from reports.measures import DIMENSIONS, MEASURES, RATIOS, Period, compute, ratio
from reports.periods import PeriodForm
from reports.scope import FILTER_PARAMS, Scope
from reports.tables import QUEUE_PARAMS, Cell, dimension_label

TIME_UNITS = {
    "day": gettext_lazy("Day"),
    "week": gettext_lazy("Week"),
    "month": gettext_lazy("Month"),
}
# A table by day, week or month has at most this many periods (one column per period and
# measure in each query).
MAX_BUCKETS = 62
DEFAULT_MEASURES = ["received", "solved"]
# The parameters a custom report is made of (what a saved report keeps).
QUERY_PARAMS = ("measures", "group_by", "then_by", "period", "start", "end", *FILTER_PARAMS)


def measure_choices() -> list[tuple[str, str]]:
    choices = [(key, str(measure.label)) for key, measure in MEASURES.items()]
    return choices + [(key, str(label)) for key, (_p, _w, label) in RATIOS.items()]


def grouping_choices() -> list[tuple[str, str]]:
    return [(key, str(label)) for key, (_i, _l, label) in DIMENSIONS.items()] + [
        (key, str(label)) for key, label in TIME_UNITS.items()
    ]


class CustomReportForm(PeriodForm):
    measures = forms.MultipleChoiceField(
        label=gettext_lazy("Measures"), choices=measure_choices, widget=forms.SelectMultiple
    )
    group_by = forms.ChoiceField(label=gettext_lazy("Group by"), choices=grouping_choices)
    organization = forms.ModelChoiceField(
        label=gettext_lazy("Organization"),
        queryset=Organization.objects.all(),
        required=False,
        empty_label="---------",
    )
    then_by = forms.ChoiceField(
        label=gettext_lazy("Then by"),
        required=False,
        choices=lambda: [("", gettext_lazy("(nothing)")), *grouping_choices()],
    )

    def clean(self):
        data = super().clean() or {}
        group_by, then_by = data.get("group_by"), data.get("then_by")
        if group_by and then_by == group_by:
            self.add_error("then_by", _("Choose two different groupings."))
        if group_by in TIME_UNITS and then_by in TIME_UNITS:
            self.add_error("then_by", _("Group by one of day, week or month at most."))
        timeless = [
            key for key in data.get("measures", []) if key in MEASURES and MEASURES[key].timeless
        ]
        if timeless and (group_by in TIME_UNITS or then_by in TIME_UNITS):
            self.add_error(
                "measures",
                _(
                    "“%(measure)s” is a figure of this moment: it has no value per day, "
                    "week or month."
                )
                % {"measure": MEASURES[timeless[0]].label},
            )
        return data

    def report_period(self) -> Period:
        return self.periods()[0]


def form_for(data) -> CustomReportForm:
    """The form of a page's GET parameters, or of a saved report's stored ones."""
    if not isinstance(data, QueryDict):
        query = QueryDict(mutable=True)
        for name, value in data.items():
            query.setlist(name, value if isinstance(value, list) else [value])
        data = query
    if not data.get("measures") and not data.get("group_by"):
        # The first visit: the default report, with whatever period and filters came.
        data = data.copy()
        data.setlist("measures", DEFAULT_MEASURES)
        data["group_by"] = "pool"
    return CustomReportForm(data)


def stored_query(data) -> dict:
    """The parameters to keep for a saved report (an allowlist), from a QueryDict."""
    query: dict = {}
    for name in QUERY_PARAMS:
        values = [value for value in data.getlist(name) if value]
        if values:
            query[name] = values if name == "measures" else values[0]
    return query


def buckets(period: Period, unit: str) -> list[tuple[str, Period]]:
    """The days, weeks (from the locale's first day) or months of ``period``, each cut to
    the period; with their labels in the reader's locale."""
    result: list[tuple[str, Period]] = []
    day = period.start
    if unit == "week":
        first = int(formats.get_format("FIRST_DAY_OF_WEEK"))
        day -= timedelta(days=(day.weekday() + 1 - first) % 7)
    elif unit == "month":
        day = day.replace(day=1)
    while day <= period.end:
        if unit == "day":
            following = day + timedelta(days=1)
            label = formats.date_format(day, "SHORT_DATE_FORMAT")
        elif unit == "week":
            following = day + timedelta(days=7)
            label = formats.date_format(max(day, period.start), "SHORT_DATE_FORMAT")
        else:
            following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
            label = formats.date_format(day, "YEAR_MONTH_FORMAT")
        result.append(
            (label, Period(max(day, period.start), min(following - timedelta(1), period.end)))
        )
        day = following
        if len(result) > MAX_BUCKETS:
            break
    return result


@dataclass
class CustomTable:
    headers: list[str]  # the groupings' titles
    columns: list[tuple[str, str, str]]  # key, label, unit
    rows: list[tuple[list[str], list[Cell]]] = field(default_factory=list)
    total: list[Cell] = field(default_factory=list)
    chart: dict = field(default_factory=dict)

    @property
    def width(self) -> int:
        return len(self.headers) + len(self.columns)

    def export(self) -> tuple[list, list[list]]:
        header = [*self.headers, *(label for _key, label, _unit in self.columns)]
        body = [[*labels, *(cell.value for cell in cells)] for labels, cells in self.rows]
        padding = [""] * (len(self.headers) - 1)
        return header, [*body, [_("Total"), *padding, *(cell.value for cell in self.total)]]


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
        value = values.get(key)
        if measure.unit == "count":
            value = value or 0  # a group with no row in this measure's table counts none
        link = ""
        if measure.condition is not None and params is not None:
            link = scope.link(key, period, **params)
        cells.append(Cell(value, measure.unit, link))
    return cells


def _params(dimensions, ids) -> dict | None:
    """The queue filters of a row; None when a value is missing (no filter lists it)."""
    if any(value is None for value in ids):
        return None
    return {QUEUE_PARAMS[name]: value for name, value in zip(dimensions, ids, strict=True)}


def custom_table(scope: Scope, form: CustomReportForm) -> CustomTable | None:
    """The table of a valid form, in ``scope``; None when the form is not valid."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    keys = list(data["measures"])
    needed = measure_keys(keys)
    groupings = [data["group_by"], *([data["then_by"]] if data.get("then_by") else [])]
    period = form.report_period()
    dimensions = tuple(name for name in groupings if name in DIMENSIONS)
    unit = next((name for name in groupings if name in TIME_UNITS), None)
    table = CustomTable(
        headers=[
            str(DIMENSIONS[name][2] if name in DIMENSIONS else TIME_UNITS[name])
            for name in groupings
        ],
        columns=[_column(key) for key in keys],
    )
    if unit is None:
        for row in compute(
            scope.tickets, {"now": period}, needed, dimensions=dimensions, days=scope.days
        ):
            labels = [
                dimension_label(d, i, label)
                for d, i, label in zip(dimensions, row["ids"], row["labels"], strict=True)
            ]
            table.rows.append(
                (labels, _cells(scope, period, row["now"], keys, _params(dimensions, row["ids"])))
            )
    else:
        spans = buckets(period, unit)
        if len(spans) > MAX_BUCKETS:
            form.add_error(
                None,
                _("Too many periods for this grouping: choose a shorter period or a longer unit."),
            )
            return None
        named = {f"b{i}": span for i, (_label, span) in enumerate(spans)}
        labels_of = {f"b{i}": label for i, (label, _span) in enumerate(spans)}
        if dimensions:
            rows = compute(scope.tickets, named, needed, dimensions=dimensions, days=scope.days)
        else:
            rows = [
                {"ids": (), "labels": (), **compute(scope.tickets, named, needed, days=scope.days)}
            ]
        entries = []
        for name, span in named.items():
            for row in rows:
                labels = [
                    dimension_label(d, i, label)
                    for d, i, label in zip(dimensions, row["ids"], row["labels"], strict=True)
                ]
                cells = _cells(scope, span, row[name], keys, _params(dimensions, row["ids"]))
                time_first = groupings[0] == unit
                position = (
                    (int(name[1:]), *row_order(row))
                    if time_first
                    else (*row_order(row), int(name[1:]))
                )
                ordered = [labels_of[name], *labels] if time_first else [*labels, labels_of[name]]
                entries.append((position, ordered, cells))
        table.rows = [
            (ordered, cells)
            for _position, ordered, cells in sorted(entries, key=lambda entry: entry[0])
        ]
    total = compute(scope.tickets, {"now": period}, needed, days=scope.days)["now"]
    table.total = _cells(scope, period, total, keys, {})
    table.chart = _chart(table, len(groupings))
    return table


def row_order(row) -> tuple:
    return tuple((label is None, str(label)) for label in row["labels"])


def _chart(table: CustomTable, groupings: int) -> dict:
    """One grouping: a bar per row and measure. Two: the first measure, the first grouping
    along the axis and a bar per value of the second."""
    if groupings == 1:
        return {
            "stacked": False,
            "labels": [labels[0] for labels, _cells in table.rows],
            "datasets": [
                {"label": label, "data": [cells[i].value for _labels, cells in table.rows]}
                for i, (_key, label, _unit) in enumerate(table.columns)
            ],
        }
    axis = list(dict.fromkeys(labels[0] for labels, _cells in table.rows))
    series = list(dict.fromkeys(labels[1] for labels, _cells in table.rows))[:12]
    values = {(labels[0], labels[1]): cells[0].value for labels, cells in table.rows}
    return {
        "stacked": table.columns[0][2] == "count",
        "labels": axis,
        "datasets": [
            {"label": name, "data": [values.get((x, name)) for x in axis]} for name in series
        ],
    }


def scheduled_period(schedule: str, today: date) -> Period:
    """The period a scheduled report mails: the whole week (Monday to Sunday) or the whole
    month before ``today``."""
    if schedule == "weekly":
        start = today - timedelta(days=today.weekday() + 7)
        return Period(start, start + timedelta(days=6))
    end = today.replace(day=1) - timedelta(days=1)
    return Period(end.replace(day=1), end)
