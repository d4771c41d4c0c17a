"""The machinery of the measures: periods, source tables and the measure declarations.

The measures themselves are in ``reports.measures``; this module says what a measure is
(a ``Measure`` of a ``Source`` over a ``Period``) and registers each one as it is declared.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from django.db import models
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone
from django.utils.functional import lazy

from reports.models import ReportDay, ReportEvent, ReportOpen, TicketFact
from sla.models import Consultation, Deadline, Target
from surveys.models import Answer
from tickets.models import Ticket
from tickets.states import OPEN_STATUSES


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


def spans(periods) -> list[Period]:
    """The days of ``periods`` as few periods as possible: this month and the same days of
    the month before are two; a month's days, weeks or months are one."""
    merged: list[Period] = []
    for period in sorted(periods, key=lambda p: p.start):
        if merged and period.start <= merged[-1].end + timedelta(days=1):
            merged[-1] = Period(merged[-1].start, max(merged[-1].end, period.end))
        else:
            merged.append(period)
    return merged


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
    # Sources of one table read by different indexes: a query that joins the tickets
    # (a grouping, a scope the roll-up does not keep) reads the family in one go instead.
    family: str = ""

    def rows(self, tickets, periods):
        """This table's rows for ``tickets`` that measures over ``periods`` can count."""
        rows = tickets if self.model is Ticket else self.model._default_manager.all()
        if self.rows_in is not None:
            within = Q()
            for span in spans(periods):
                within |= self.rows_in(span)
            rows = rows.filter(within)
        if self.model in (ReportDay, ReportOpen):
            return rows.order_by()
        if self.model is not Ticket and tickets.query.where:
            rows = rows.filter(**{f"{self.ticket}__in": tickets.values("pk")})
        return rows

    def dimension(self, path: str) -> str:
        if self.model in (Ticket, ReportDay, ReportOpen):
            return path
        return self.own_dimensions.get(path) or f"{self.ticket}__{path}"


TICKETS = Source("tickets", Ticket, "pk", rows_in=lambda span: Q(status__in=OPEN_STATUSES))
# The facts, by the date a measure counts them on: each source reads one covering index
# (the date, then the columns its measures aggregate and the pool and agent keys), so a
# period's figures are an index-only scan of its rows, never a visit of the table.
FACTS = Source(
    "facts",
    TicketFact,
    "ticket",
    rows_in=lambda span: span.q("created_at"),
    own_dimensions={"channel": "channel"},
    family="facts",
)
FACTS_RESPONDED = Source(
    "facts_responded",
    TicketFact,
    "ticket",
    rows_in=lambda span: span.q("first_response_at"),
    own_dimensions={"channel": "channel"},
    family="facts",
)
FACTS_SOLVED = Source(
    "facts_solved",
    TicketFact,
    "ticket",
    rows_in=lambda span: span.q("finished_at"),
    own_dimensions={"channel": "channel"},
    family="facts",
)
# Deadlines met, and missed: each through its own covering index (reports migration 0008).
# Every "met" measure counts met deadlines never missed (the met index's condition).
DEADLINES_MET = Source(
    "deadlines_met",
    Deadline,
    "ticket",
    rows_in=lambda span: (
        Q(target__in=Target.values, state=Deadline.State.MET, breached_at__isnull=True)
        & span.q("met_at")
    ),
    family="deadlines",
)
DEADLINES_MISSED = Source(
    "deadlines_missed",
    Deadline,
    "ticket",
    rows_in=lambda span: span.q("breached_at"),
    family="deadlines",
)


def _either(members: tuple[Source, ...]) -> Callable[[Period], Q]:
    def rows_in(span: Period) -> Q:
        within = Q()
        for member in members:
            assert member.rows_in is not None  # noqa: S101 (every member has its rows)
            within |= member.rows_in(span)
        return within

    return rows_in


# A family as one source: the rows any of its members reads.
FAMILIES = {
    members[0].family: replace(members[0], key=members[0].family, rows_in=_either(members))
    for members in ((FACTS, FACTS_RESPONDED, FACTS_SOLVED), (DEADLINES_MET, DEADLINES_MISSED))
}
EVENTS = Source(
    "events",
    ReportEvent,
    "ticket",
    rows_in=lambda span: span.q("at"),
    own_dimensions={
        "pool": "pool",
        "pool__name": "pool__name",
        "assignee": "assignee",
        "assignee__username": "assignee__username",
    },
)
CONSULTATIONS = Source(
    "consultations", Consultation, "ticket", rows_in=lambda span: span.q("answered_at")
)
# The daily roll-up: its pool and agent are its own columns (their tickets' at refresh).
DAYS = Source(
    "days",
    ReportDay,
    "",
    rows_in=lambda span: Q(day__range=(span.start, span.end)),
    own_dimensions={"assignee": "assignee", "pool": "pool"},
)
OPEN = Source("open", ReportOpen, "", own_dimensions={"assignee": "assignee", "pool": "pool"})
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
