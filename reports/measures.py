"""Every figure of the reports, defined once.

A measure is a function of a period returning one database aggregate over its source table
(tickets, their report facts, SLA deadlines, report events, consultations, survey answers).
``compute`` runs every asked measure of one source in one query, for the whole selection
or grouped by a dimension, so a breakdown's rows add up to the total. Counts are counts of
tickets, and each count has a drill-down: the queue filtered to exactly those tickets.

Periods are whole days in the reader's time zone. Each measure's ``help_text`` (marked with
``gettext_noop``, translated when shown) is the help beside its figure and becomes the
measure function's docstring: keep it true.
"""

from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.db import models
from django.db.models import Avg, Count, Q, Sum, Value
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from reports import durations
from reports.aggregates import Median
from reports.models import ReportDay, ReportEvent, ReportMark, ReportOpen
from reports.sources import (
    ANSWERS,
    CONSULTATIONS,
    DAYS,
    DEADLINES_MET,
    DEADLINES_MISSED,
    EVENTS,
    FACTS,
    FACTS_RESPONDED,
    FACTS_SOLVED,
    FAMILIES,
    MEASURES,
    OPEN,
    TICKETS,
    Measure,
    Period,
    _interpolated,
    figure,
    spans,
    ticket_count,
)
from sla.models import Deadline, Target
from surveys.models import Question, Questionnaire
from tickets.models import Ticket
from tickets.states import OPEN_STATUSES, Channel

# Tickets -----------------------------------------------------------------------------


@ticket_count(
    TICKETS,
    _("Open now"),
    help_text=gettext_noop(
        "Tickets open at this moment (new, taken, in progress, in consultation or "
        "waiting for the customer), whatever the period."
    ),
)
def open_now(period: Period) -> Q:
    return Q(status__in=OPEN_STATUSES)


@ticket_count(
    FACTS,
    _("Received"),
    help_text=gettext_noop(
        "Tickets created in the period, by any channel; merged and cancelled ones included."
    ),
)
def received(period: Period) -> Q:
    return period.q("created_at")


@ticket_count(
    FACTS,
    _("Received by mail"),
    help_text=gettext_noop(
        "Tickets created in the period from a customer's mail (the channel they came by)."
    ),
)
def received_by_mail(period: Period) -> Q:
    return period.q("created_at") & Q(channel=Channel.EMAIL)


@ticket_count(
    FACTS_RESPONDED,
    _("First responses"),
    help_text=gettext_noop(
        "Tickets whose first reply to the customer was sent in the period (a junior's "
        "reply counts when approved)."
    ),
)
def responded(period: Period) -> Q:
    return period.q("first_response_at")


@ticket_count(
    FACTS_SOLVED,
    _("Solved"),
    help_text=gettext_noop(
        "Tickets resolved in the period, or closed in it without being resolved "
        "first. A reopened ticket counts when it is solved again (at its last "
        "solution); merged and cancelled tickets are never solved."
    ),
)
def solved(period: Period) -> Q:
    return period.q("finished_at")


@figure(
    FACTS_RESPONDED,
    _("First response, average (calendar time)"),
    "seconds",
    help_text=gettext_noop(
        "From the ticket's creation to its first reply, on the clock, over the "
        "tickets first answered in the period."
    ),
)
def first_response_average(period: Period):
    return Avg("first_response_seconds", filter=responded(period))


@figure(
    FACTS_RESPONDED,
    _("First response, median (calendar time)"),
    "seconds",
    help_text=gettext_noop(
        "The median of the same durations: half the tickets were answered faster."
    ),
)
def first_response_median(period: Period):
    return Median("first_response_seconds", filter=responded(period))


@figure(
    FACTS_RESPONDED,
    _("First response, average (business time)"),
    "seconds",
    help_text=gettext_noop(
        "From creation to first reply counting only the working hours of the calendar "
        "of the ticket's SLA policy (minus its holidays and closed days); a ticket "
        "without a policy counts every hour. Over the tickets first answered in the "
        "period."
    ),
)
def first_response_business_average(period: Period):
    return Avg("first_response_business_seconds", filter=responded(period))


@figure(
    FACTS_RESPONDED,
    _("First response, median (business time)"),
    "seconds",
    help_text=gettext_noop("The median of the first responses in business time."),
)
def first_response_business_median(period: Period):
    return Median("first_response_business_seconds", filter=responded(period))


@figure(
    FACTS_SOLVED,
    _("Handling time, average (calendar time)"),
    "seconds",
    help_text=gettext_noop(
        "From the ticket's creation to its (last) solution, on the clock, waiting for "
        "the customer included, over the tickets solved in the period."
    ),
)
def handling_average(period: Period):
    return Avg("handling_seconds", filter=solved(period))


@figure(
    FACTS_SOLVED,
    _("Handling time, median (calendar time)"),
    "seconds",
    help_text=gettext_noop("The median of the same durations."),
)
def handling_median(period: Period):
    return Median("handling_seconds", filter=solved(period))


@figure(
    FACTS_SOLVED,
    _("Handling time, average (business time)"),
    "seconds",
    help_text=gettext_noop(
        "From creation to (last) solution in the working hours of the ticket's "
        "calendar, over the tickets solved in the period."
    ),
)
def handling_business_average(period: Period):
    return Avg("handling_business_seconds", filter=solved(period))


@figure(
    FACTS_SOLVED,
    _("Handling time, median (business time)"),
    "seconds",
    help_text=gettext_noop("The median of the handling times in business time."),
)
def handling_business_median(period: Period):
    return Median("handling_business_seconds", filter=solved(period))


# The period report's four kinds of solved tickets ---------------------------------------


@ticket_count(
    FACTS_SOLVED,
    _("Solved on time without consultation"),
    help_text=gettext_noop(
        "Solved in the period, no SLA deadline (first response, next response, "
        "resolution) missed, no department consulted."
    ),
)
def solved_on_time_without_consultation(period: Period) -> Q:
    return solved(period) & Q(late=False, consulted=False)


@ticket_count(
    FACTS_SOLVED,
    _("Solved on time with consultation"),
    help_text=gettext_noop(
        "Solved in the period, no SLA deadline missed, a department was consulted."
    ),
)
def solved_on_time_with_consultation(period: Period) -> Q:
    return solved(period) & Q(late=False, consulted=True)


@ticket_count(
    FACTS_SOLVED,
    _("Solved late with consultation"),
    help_text=gettext_noop(
        "Solved in the period with at least one SLA deadline missed; a department was consulted."
    ),
)
def solved_late_with_consultation(period: Period) -> Q:
    return solved(period) & Q(late=True, consulted=True)


@ticket_count(
    FACTS_SOLVED,
    _("Solved late without consultation"),
    help_text=gettext_noop(
        "Solved in the period with at least one SLA deadline missed; no consultation."
    ),
)
def solved_late_without_consultation(period: Period) -> Q:
    return solved(period) & Q(late=True, consulted=False)


# Events ---------------------------------------------------------------------------------


@ticket_count(
    EVENTS,
    _("Reopened"),
    help_text=gettext_noop(
        "Tickets reopened in the period (by the customer writing again, rejecting the "
        "resolution, or by an agent): a ticket reopened twice counts once."
    ),
)
def reopened(period: Period) -> Q:
    return Q(kind=ReportEvent.Kind.REOPENED) & period.q("at")


@ticket_count(
    EVENTS,
    _("Customer replies after closing"),
    help_text=gettext_noop(
        "Tickets on which the customer wrote in the period while the ticket was "
        "resolved or closed (which reopens it)."
    ),
)
def replied_after_close(period: Period) -> Q:
    return Q(kind=ReportEvent.Kind.REPLY_AFTER_CLOSE) & period.q("at")


# SLA --------------------------------------------------------------------------------------


def _sla_met(target: str):
    def condition(period: Period) -> Q:
        return Q(target=target, state=Deadline.State.MET, breached_at__isnull=True) & period.q(
            "met_at"
        )

    return condition


def _sla_breached(target: str):
    def condition(period: Period) -> Q:
        return Q(target=target) & period.q("breached_at")

    return condition


for _target in Target:
    for _outcome, _make, _source, _label, _help in (
        (
            "met",
            _sla_met,
            DEADLINES_MET,
            _("%(target)s met"),
            gettext_noop(
                "Tickets with a deadline of this target met in the period before it was due."
            ),
        ),
        (
            "breached",
            _sla_breached,
            DEADLINES_MISSED,
            _("%(target)s missed"),
            gettext_noop(
                "Tickets with a deadline of this target that passed its due time in the "
                "period (met late or not met at all)."
            ),
        ),
    ):
        _condition = _make(_target.value)
        _condition.__name__ = f"sla_{_target.value}_{_outcome}"
        ticket_count(_source, _interpolated(_label, {"target": _target.label}), help_text=_help)(
            _condition
        )


# Consultations ------------------------------------------------------------------------


@ticket_count(
    CONSULTATIONS,
    _("Consultations answered on time"),
    help_text=gettext_noop(
        "Tickets with a consultation the department answered in the period, by its "
        "due time (the department's response time in the ticket's business hours)."
    ),
)
def consultation_on_time(period: Period) -> Q:
    return period.q("answered_at") & Q(answered_at__lte=models.F("due_at"))


@ticket_count(
    CONSULTATIONS,
    _("Consultations answered late"),
    help_text=gettext_noop(
        "Tickets with a consultation the department answered in the period, after its due time."
    ),
)
def consultation_late(period: Period) -> Q:
    return period.q("answered_at") & Q(answered_at__gt=models.F("due_at"))


# Satisfaction -------------------------------------------------------------------------


def _answers(kind: str, question: str, period: Period) -> Q:
    return Q(response__kind=kind, question__kind=question, number__isnull=False) & period.q(
        "response__created_at"
    )


@ticket_count(
    ANSWERS,
    _("Rated tickets"),
    help_text=gettext_noop(
        "Tickets whose customer answered a 1-to-5 rating of a satisfaction survey in the period."
    ),
)
def rated(period: Period) -> Q:
    return _answers(Questionnaire.Kind.SATISFACTION, Question.Kind.RATING, period)


@figure(
    ANSWERS,
    _("Average rating"),
    "rating",
    help_text=gettext_noop(
        "The average of the customers' 1-to-5 ratings in satisfaction surveys "
        "answered in the period."
    ),
)
def average_rating(period: Period):
    return Avg("number", filter=rated(period))


def _share(part: Q, whole: Q):
    return (
        Cast(Count("pk", filter=part), models.FloatField())
        * 100.0
        / NullIf(Count("pk", filter=whole), 0)
    )


@figure(
    ANSWERS,
    _("Satisfied (CSAT)"),
    "percent",
    help_text=gettext_noop(
        "The share of 1-to-5 ratings that are 4 or 5, in satisfaction surveys "
        "answered in the period."
    ),
)
def csat(period: Period):
    return _share(rated(period) & Q(number__gte=4), rated(period))


@ticket_count(
    ANSWERS,
    _("Scored tickets"),
    help_text=gettext_noop(
        "Tickets whose customer answered a 0-to-10 question of a satisfaction survey in the period."
    ),
)
def scored(period: Period) -> Q:
    return _answers(Questionnaire.Kind.SATISFACTION, Question.Kind.SCORE, period)


@figure(
    ANSWERS,
    _("Net promoter score"),
    "score",
    help_text=gettext_noop(
        "Promoters (9 or 10) minus detractors (0 to 6), in percent of the 0-to-10 "
        "answers of satisfaction surveys answered in the period; from -100 to 100."
    ),
)
def nps(period: Period):
    whole = scored(period)
    return _share(whole & Q(number__gte=9), whole) - _share(whole & Q(number__lte=6), whole)


@figure(
    ANSWERS,
    _("Operator's rating of the service"),
    "rating",
    help_text=gettext_noop(
        "The average of the agents' own 1-to-5 ratings of the service (the operator "
        "rating form) filled in the period."
    ),
)
def operator_rating(period: Period):
    return Avg(
        "number", filter=_answers(Questionnaire.Kind.OPERATOR_RATING, Question.Kind.RATING, period)
    )


# Ratios of two counts: computed from the counts, so they need no query of their own. ---

RATIOS: dict[str, tuple[str, tuple[str, ...], object]] = {
    "replied_after_close_share": (
        "replied_after_close",
        ("solved",),
        # xgettext:no-python-format
        _("Customer replies after closing, % of solved"),
    ),
    **{
        f"sla_{target.value}_met_share": (
            f"sla_{target.value}_met",
            (f"sla_{target.value}_met", f"sla_{target.value}_breached"),
            _interpolated(_("%(target)s met, %%"), {"target": target.label}),
        )
        for target in Target
    },
}


def ratio(values: dict, key: str) -> float | None:
    part, whole, _label = RATIOS[key]
    total = sum(values.get(name) or 0 for name in whole)
    return 100.0 * (values.get(part) or 0) / total if total else None


# The same figures from the daily roll-up (ReportDay), where the scope allows: sums of the
# day rows of the period (an average: a sum of durations over a count). -----------------


def _days(period: Period) -> Q:
    return Q(day__range=(period.start, period.end))


def _sum(column: str):
    return lambda period: Coalesce(Sum(column, filter=_days(period)), 0)


def _average(total: str, count: str):
    return lambda period: (
        Cast(Sum(total, filter=_days(period)), models.FloatField())
        / NullIf(Sum(count, filter=_days(period)), 0)
    )


ROLLUP: dict[str, Callable[[Period], models.Expression]] = {
    "received": _sum("received"),
    "received_by_mail": _sum("received_by_mail"),
    "responded": _sum("responded"),
    "solved": _sum("solved"),
    "solved_on_time_without_consultation": _sum("solved_on_time"),
    "solved_on_time_with_consultation": _sum("solved_on_time_consulted"),
    "solved_late_with_consultation": _sum("solved_late_consulted"),
    "solved_late_without_consultation": _sum("solved_late"),
    "first_response_average": _average("first_response_seconds", "responded"),
    "first_response_business_average": _average("first_response_business_seconds", "responded"),
    "handling_average": _average("handling_seconds", "solved"),
    "handling_business_average": _average("handling_business_seconds", "solved"),
}


def _days_share(part: str, whole: str):
    return lambda period: (
        Cast(Coalesce(Sum(part, filter=_days(period)), 0), models.FloatField())
        * 100.0
        / NullIf(Sum(whole, filter=_days(period)), 0)
    )


def _nps_days(period: Period):
    promoters = _days_share("score_promoters", "score_count")
    return promoters(period) - _days_share("score_detractors", "score_count")(period)


# The satisfaction figures from the survey sums of the roll-up (totals, as the marks): the
# same arithmetic on the same counts as from the answers.
ANSWERED: dict[str, Callable[[Period], models.Expression]] = {
    "average_rating": _average("rating_sum", "rating_count"),
    "csat": _days_share("rating_high", "rating_count"),
    "nps": _nps_days,
    "operator_rating": _average("operator_sum", "operator_count"),
}


# Counts of distinct tickets from the roll-up (reports.marks), for totals: the day rows'
# sums less the repeats (a ticket's marks in the period after its first), read from the
# marks with a previous day in the period.
MARKED = ReportDay.MARKS


def _repeats(period: Period, key: str):
    return Count(
        "pk",
        filter=Q(measure=key, day__range=(period.start, period.end), previous__gte=period.start),
    )


def _less_repeats(totals: dict, periods: dict[str, Period], keys: list[str], days: Q) -> None:
    """Take the repeats of the marked counts ``keys`` out of ``totals`` (one query)."""
    within = Q()
    for span in spans(periods.values()):
        within |= Q(day__range=(span.start, span.end))
    rows = ReportMark.objects.filter(within, previous__isnull=False).filter(days).order_by()
    expressions = {
        f"{name}__{key}": _repeats(period, key) for name, period in periods.items() for key in keys
    }
    for alias, value in _aggregate(rows, expressions).items():
        name, key = alias.split("__", 1)
        totals[name][key] = (totals[name].get(key) or 0) - (value or 0)


# Tables that keep their ticket's pool and agent (as of the last refresh, like the roll-up):
# a scope's filter on the roll-up applies to them under these names.
OWN_KEYS = {
    **{
        source.key: {"pool_key": "pool_key", "assignee_key": "assignee_key"}
        for source in (FACTS, FACTS_RESPONDED, FACTS_SOLVED)
    },
    EVENTS.key: {"pool_key": "pool_id", "assignee_key": "assignee_id"},
}


def _renamed(q: Q, names: dict[str, str]) -> Q:
    """``q`` (a scope's filter on the roll-up) on a table whose columns are ``names``."""
    renamed = Q()
    renamed.connector, renamed.negated = q.connector, q.negated
    for child in q.children:
        if isinstance(child, Q):
            renamed.children.append(_renamed(child, names))
        else:
            lookup, value = cast(tuple[str, object], child)
            field, _sep, rest = lookup.partition("__")
            renamed.children.append((names[field] + (f"__{rest}" if rest else ""), value))
    return renamed


# The dimensions the roll-up keeps.
ROLLUP_DIMENSIONS = {"pool", "agent"}


# Dimensions a breakdown groups by: (id path, label path) on the ticket. ------------------

DIMENSIONS: dict[str, tuple[str, str, object]] = {
    "topic": ("topic", "topic__name", _("Topic")),
    "product": ("product", "product__name", _("Product")),
    "priority": ("priority", "priority", _("Priority")),
    "pool": ("pool", "pool__name", _("Pool")),
    "agent": ("assignee", "assignee__username", _("Agent")),
    "sector": ("requester__sector", "requester__sector__name", _("Sector")),
    "organization": (
        "requester__organization",
        "requester__organization__name",
        _("Organization"),
    ),
    "requester": ("requester", "requester__name", _("Requester")),
    "channel": ("channel", "channel", _("Channel")),
}


def _aggregate(queryset, expressions: dict) -> dict:
    """``queryset.aggregate(**expressions)``, in less time: as annotations of one constant
    row (no GROUP BY, so the whole selection). Django's ``aggregate()`` lets each
    aggregate refer to the ones before it by walking every expression tree once per
    aggregate before it (a third of the dashboard's time); these never refer to each other."""
    rows = list(queryset.values(_whole=Value(1)).annotate(**expressions))
    if not rows:  # a selection known to be empty: the aggregates' values for no rows
        return queryset.aggregate(**expressions)
    rows[0].pop("_whole")
    return rows[0]


def compute(
    tickets,
    periods: dict[str, Period],
    keys,
    *,
    dimension: str | None = None,
    dimensions: tuple[str, ...] = (),
    days: Q | None = None,
):
    """The measures ``keys`` for each named period, over ``tickets``: one query per source.

    Without a dimension: ``{period name: {measure: value}}``. With ``dimension`` (or one or
    two ``dimensions``): a list of rows ``{"id", "label", "ids", "labels", period name:
    {measure: value}}``, one per value (None included) or pair of values, ordered by label;
    "id" and "label" are the first dimension's.

    ``days``: the selection as a filter on the daily roll-up (``Scope.days``), or None.
    With it, the figures the roll-up keeps are read from it when the grouping is one it
    keeps and the periods are days of its time zone, "Open now" from the open counts;
    the others from their own tables.
    """
    grouping = (dimension,) if dimension else tuple(dimensions)
    # The open counts hold no day: any time zone reads them.
    use_open = days is not None and set(grouping) <= ROLLUP_DIMENSIONS
    use_days = use_open and timezone.get_current_timezone_name() == settings.TIME_ZONE
    # Totals in a scope the tables' own keys say: each source through its own index.
    # Otherwise the query joins the tickets: once per table, not once per index.
    split = days is not None and not grouping
    by_source: dict[str, list[Measure]] = {}
    for key in keys:
        measure = MEASURES[key]
        source_key = measure.source.key if split else measure.source.family or measure.source.key
        if use_days and (key in ROLLUP or (split and (key in MARKED or key in ANSWERED))):
            source_key = "days"
        elif use_days and split and not days and key in durations.MEDIANS:
            source_key = "durations"  # the whole desk's medians: its histogram
        elif use_open and key == "open_now":
            source_key = "open"
        by_source.setdefault(source_key, []).append(measure)
    totals: dict[str, dict] = {name: {} for name in periods}
    rows: dict[object, dict] = {}
    if "durations" in by_source:
        keys_of = [measure.key for measure in by_source.pop("durations")]
        for name, values in durations.medians(periods, keys_of).items():
            totals[name].update(values)
    for source_key, measures in by_source.items():
        source = {"days": DAYS, "open": OPEN, **FAMILIES}.get(source_key) or measures[0].source
        first = next(iter(periods))
        expressions = {
            f"{name}__{measure.key}": (
                (ROLLUP.get(measure.key) or ANSWERED.get(measure.key) or _sum(measure.key))(period)
                if source is DAYS
                else Coalesce(Sum("open"), 0)
                if source is OPEN
                else measure.expression(period)
            )
            for name, period in periods.items()
            for measure in measures
            if name == first or not measure.timeless
        }
        if source is OPEN:
            queryset = ReportOpen.objects.filter(days).order_by()
        elif source is DAYS:
            queryset = DAYS.rows(ReportDay.objects.none(), periods.values()).filter(days)
        elif days is not None and source.key in OWN_KEYS:
            # The pool and agent the rows keep: no lookup of the scope's tickets.
            own = source.rows(Ticket.objects.all(), periods.values())
            queryset = own.filter(_renamed(days, OWN_KEYS[source.key])).order_by()
        else:
            queryset = source.rows(tickets, periods.values()).order_by()
        if not grouping:
            result = _aggregate(queryset, expressions)
            for alias, value in result.items():
                name, key = alias.split("__", 1)
                totals[name][key] = value
            continue
        paths = [
            (source.dimension(DIMENSIONS[d][0]), source.dimension(DIMENSIONS[d][1]))
            for d in grouping
        ]
        columns = [path for pair in paths for path in pair]
        grouped = queryset.values(*columns).annotate(**expressions)
        for result in grouped:
            ids = tuple(result[ids_path] for ids_path, _labels in paths)
            labels = tuple(result[labels_path] for _ids, labels_path in paths)
            row = rows.setdefault(
                ids,
                {
                    "id": ids[0],
                    "label": labels[0],
                    "ids": ids,
                    "labels": labels,
                    **{name: {} for name in periods},
                },
            )
            for alias, value in result.items():
                if alias in columns:
                    continue
                name, key = alias.split("__", 1)
                row[name][key] = value
    if not grouping:
        marked = [m.key for m in by_source.get("days", ()) if m.key in MARKED]
        if marked and days is not None:  # marked counts come from the roll-up only
            _less_repeats(totals, periods, marked, days)
        return totals
    return sorted(
        rows.values(),
        key=lambda row: tuple((label is None, str(label)) for label in row["labels"]),
    )
