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
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import models
from django.db.models import Avg, Count, Exists, OuterRef, Q
from django.db.models.functions import Cast, NullIf
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from reports.aggregates import Median
from reports.models import ReportEvent, TicketFact
from sla.models import Consultation, Deadline, Target
from surveys.models import Answer, Question, Questionnaire
from tickets.models import Ticket
from tickets.states import OPEN_STATUSES, Channel


@dataclass(frozen=True)
class Period:
    """From ``start`` to ``end`` (both included), whole days in the current time zone."""

    start: date
    end: date

    def bounds(self) -> tuple[datetime, datetime]:
        zone = timezone.get_current_timezone()
        return (
            datetime.combine(self.start, time.min, tzinfo=zone),
            datetime.combine(self.end, time.max, tzinfo=zone),
        )

    def q(self, name: str) -> Q:
        return Q(**{f"{name}__range": self.bounds()})

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def before(self) -> "Period":
        """The period of the same length just before this one."""
        return Period(self.start - timedelta(days=self.days), self.start - timedelta(days=1))

    @property
    def param(self) -> str:
        return f"{self.start.isoformat()}:{self.end.isoformat()}"

    @classmethod
    def parse(cls, value: str) -> "Period | None":
        try:
            start, end = (date.fromisoformat(part) for part in value.split(":"))
        except ValueError:
            return None
        return cls(start, end) if start <= end and (end - start).days <= 3660 else None


@dataclass(frozen=True)
class Source:
    """A table measures aggregate; ``ticket``: its path to the ticket."""

    key: str
    model: type[models.Model]
    ticket: str
    # The rows any measure of this table can count in a span of days (every measure's
    # condition implies it): the query reads only those, through their indexes.
    rows_in: Callable[["Period"], Q] | None = None
    # A dimension read from the table itself rather than from its ticket (survey answers
    # keep the pool, sector and agent they were given for).
    own_dimensions: dict[str, str] = field(default_factory=dict)

    def rows(self, tickets, periods):
        """This table's rows for ``tickets`` that measures over ``periods`` can count."""
        rows = tickets if self.model is Ticket else self.model._default_manager.all()
        if self.rows_in is not None:
            span = Period(min(p.start for p in periods), max(p.end for p in periods))
            rows = rows.filter(self.rows_in(span))
        if self.model is not Ticket and tickets.query.where:
            rows = rows.filter(**{f"{self.ticket}__in": tickets.values("pk")})
        return rows

    def dimension(self, path: str) -> str:
        if self.model is Ticket:
            return path
        return self.own_dimensions.get(path) or f"{self.ticket}__{path}"


TICKETS = Source("tickets", Ticket, "pk", rows_in=lambda span: Q(status__in=OPEN_STATUSES))
FACTS = Source(
    "facts",
    TicketFact,
    "ticket",
    rows_in=lambda span: span.q("created_at") | span.q("first_response_at") | span.q("finished_at"),
)
DEADLINES = Source(
    "deadlines",
    Deadline,
    "ticket",
    # Met: through the index on (target, met_at); missed: through the one on breached_at.
    rows_in=lambda span: (Q(target__in=Target.values) & span.q("met_at")) | span.q("breached_at"),
)
EVENTS = Source("events", ReportEvent, "ticket", rows_in=lambda span: span.q("at"))
CONSULTATIONS = Source(
    "consultations", Consultation, "ticket", rows_in=lambda span: span.q("answered_at")
)
ANSWERS = Source(
    "answers",
    Answer,
    "response__ticket",
    rows_in=lambda span: span.q("response__created_at"),
    own_dimensions={
        "pool": "response__pool",
        "pool__name": "response__pool__name",
        "requester__sector": "response__sector",
        "requester__sector__name": "response__sector__name",
        "assignee": "response__agent",
        "assignee__username": "response__agent__username",
    },
)


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    source: Source
    unit: str  # count, seconds, percent, rating, score
    expression: Callable[[Period], models.Aggregate | models.Expression]
    help: str
    # For counts: the condition on the source's rows; the drill-down is the tickets having one.
    condition: Callable[[Period], Q] | None = None
    # A figure of this moment, whatever the period: computed for the first period only.
    timeless: bool = False

    def drilldown(self, period: Period) -> Q:
        """The tickets this count counts, as a filter on tickets (for the queue)."""
        if self.condition is None:
            raise ValueError(f"{self.key} is not a count of tickets")
        if self.source.model is Ticket:
            return self.condition(period)
        rows = self.source.model._default_manager.filter(self.condition(period))
        return Q(Exists(rows.filter(**{self.source.ticket: OuterRef("pk")})))


MEASURES: dict[str, Measure] = {}


def _interpolate(text, values: dict) -> str:
    return str(text) % {name: str(value) for name, value in values.items()}


# A label with a value in it, formatted in the reader's language when shown (not at import).
_interpolated = lazy(_interpolate, str)


def _documented(function, help_text: str):
    # The help is written once, in English: the function's docstring and, translated when
    # shown (reports.figures), the help beside the figure.
    function.__doc__ = help_text
    return function


def ticket_count(source: Source, label, *, help_text: str):
    """Declare a count of distinct tickets whose ``source`` rows meet the condition."""

    def declare(condition):
        _documented(condition, help_text)
        distinct = source.model is not Ticket and source.model is not TicketFact
        timeless = source.model is Ticket
        MEASURES[condition.__name__] = Measure(
            key=condition.__name__,
            label=label,
            source=source,
            unit="count",
            expression=lambda period: Count(
                source.ticket, distinct=distinct, filter=condition(period)
            ),
            help=help_text,
            condition=condition,
            timeless=timeless,
        )
        return condition

    return declare


def figure(source: Source, label, unit: str, *, help_text: str):
    """Declare a figure (average, median, percentage) computed by one aggregate."""

    def declare(expression):
        _documented(expression, help_text)
        MEASURES[expression.__name__] = Measure(
            key=expression.__name__,
            label=label,
            source=source,
            unit=unit,
            expression=expression,
            help=help_text,
        )
        return expression

    return declare


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
    FACTS,
    _("First responses"),
    help_text=gettext_noop(
        "Tickets whose first reply to the customer was sent in the period (a junior's "
        "reply counts when approved)."
    ),
)
def responded(period: Period) -> Q:
    return period.q("first_response_at")


@ticket_count(
    FACTS,
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
    FACTS,
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
    FACTS,
    _("First response, median (calendar time)"),
    "seconds",
    help_text=gettext_noop(
        "The median of the same durations: half the tickets were answered faster."
    ),
)
def first_response_median(period: Period):
    return Median("first_response_seconds", filter=responded(period))


@figure(
    FACTS,
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
    FACTS,
    _("First response, median (business time)"),
    "seconds",
    help_text=gettext_noop("The median of the first responses in business time."),
)
def first_response_business_median(period: Period):
    return Median("first_response_business_seconds", filter=responded(period))


@figure(
    FACTS,
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
    FACTS,
    _("Handling time, median (calendar time)"),
    "seconds",
    help_text=gettext_noop("The median of the same durations."),
)
def handling_median(period: Period):
    return Median("handling_seconds", filter=solved(period))


@figure(
    FACTS,
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
    FACTS,
    _("Handling time, median (business time)"),
    "seconds",
    help_text=gettext_noop("The median of the handling times in business time."),
)
def handling_business_median(period: Period):
    return Median("handling_business_seconds", filter=solved(period))


# The period report's four kinds of solved tickets ---------------------------------------


@ticket_count(
    FACTS,
    _("Solved on time without consultation"),
    help_text=gettext_noop(
        "Solved in the period, no SLA deadline (first response, next response, "
        "resolution) missed, no department consulted."
    ),
)
def solved_on_time_without_consultation(period: Period) -> Q:
    return solved(period) & Q(late=False, consulted=False)


@ticket_count(
    FACTS,
    _("Solved on time with consultation"),
    help_text=gettext_noop(
        "Solved in the period, no SLA deadline missed, a department was consulted."
    ),
)
def solved_on_time_with_consultation(period: Period) -> Q:
    return solved(period) & Q(late=False, consulted=True)


@ticket_count(
    FACTS,
    _("Solved late with consultation"),
    help_text=gettext_noop(
        "Solved in the period with at least one SLA deadline missed; a department was consulted."
    ),
)
def solved_late_with_consultation(period: Period) -> Q:
    return solved(period) & Q(late=True, consulted=True)


@ticket_count(
    FACTS,
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
    for _outcome, _make, _label, _help in (
        (
            "met",
            _sla_met,
            _("%(target)s met"),
            gettext_noop(
                "Tickets with a deadline of this target met in the period before it was due."
            ),
        ),
        (
            "breached",
            _sla_breached,
            _("%(target)s missed"),
            gettext_noop(
                "Tickets with a deadline of this target that passed its due time in the "
                "period (met late or not met at all)."
            ),
        ),
    ):
        _condition = _make(_target.value)
        _condition.__name__ = f"sla_{_target.value}_{_outcome}"
        ticket_count(DEADLINES, _interpolated(_label, {"target": _target.label}), help_text=_help)(
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
}


def compute(tickets, periods: dict[str, Period], keys, *, dimension: str | None = None):
    """The measures ``keys`` for each named period, over ``tickets``: one query per source.

    Without ``dimension``: ``{period name: {measure: value}}``. With it: a list of rows
    ``{"id", "label", period name: {measure: value}}``, one per value of the dimension
    (None included), ordered by label.
    """
    by_source: dict[str, list[Measure]] = {}
    for key in keys:
        measure = MEASURES[key]
        by_source.setdefault(measure.source.key, []).append(measure)
    totals: dict[str, dict] = {name: {} for name in periods}
    rows: dict[object, dict] = {}
    for measures in by_source.values():
        source = measures[0].source
        first = next(iter(periods))
        expressions = {
            f"{name}__{measure.key}": measure.expression(period)
            for name, period in periods.items()
            for measure in measures
            if name == first or not measure.timeless
        }
        queryset = source.rows(tickets, periods.values()).order_by()
        if dimension is None:
            result = queryset.aggregate(**expressions)
            for alias, value in result.items():
                name, key = alias.split("__", 1)
                totals[name][key] = value
            continue
        id_path, label_path, _title = DIMENSIONS[dimension]
        ids, labels = source.dimension(id_path), source.dimension(label_path)
        grouped = queryset.values(ids, labels).annotate(**expressions)
        for result in grouped:
            row = rows.setdefault(
                result[ids],
                {"id": result[ids], "label": result[labels], **{name: {} for name in periods}},
            )
            for alias, value in result.items():
                if alias in (ids, labels):
                    continue
                name, key = alias.split("__", 1)
                row[name][key] = value
    if dimension is None:
        return totals
    return sorted(rows.values(), key=lambda row: (row["label"] is None, str(row["label"])))
