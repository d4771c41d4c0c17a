"""Counts of distinct tickets as day figures: each ticket's marks.

A count of distinct tickets over a period ("tickets with a first-response deadline met in
the period", "tickets reopened in the period") is not a sum of days: a ticket with two
reopens on two days of the period counts once. Each ticket keeps one mark per measure and
day it counts on (``ReportMark``: the day of the deadline met or missed, of the reopen...
in ``settings.TIME_ZONE``), each with the ticket's mark of the same measure just before;
the roll-up (ReportDay) counts the tickets with a mark per day. A period's count is the
sum of its days less the marks in it whose previous mark is in it too: a ticket with
marks on k days of the period is counted k times by the days and taken out k - 1 times.
Exact, whatever the period; the repeats are few (a ticket's second day of a measure).

The marks follow the definitions of the measures in ``reports.measures`` (their
conditions, on the day of the date the measure's period filters on).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q

from reports.models import ReportDay, ReportEvent
from sla.models import Deadline, Target

MARKS = ReportDay.MARKS
SUMS = set(ReportDay.ANSWER_SUMS)
EVENT_MEASURES = {
    ReportEvent.Kind.REOPENED: "reopened",
    ReportEvent.Kind.REPLY_AFTER_CLOSE: "replied_after_close",
}
TARGETS = set(Target.values)
# The deadlines any mark counts: missed, or met (and never missed).
DEADLINES = Q(breached_at__isnull=False) | Q(state=Deadline.State.MET, met_at__isnull=False)
DEADLINE_FIELDS = ("ticket_id", "target", "state", "met_at", "breached_at")
CONSULTATION_FIELDS = ("ticket_id", "answered_at", "due_at")

Mark = tuple[int, str, date] | tuple[int, str, date, int]  # ticket, measure, day[, value]
# ticket, measure, day, previous day (or None), pool key, agent key, value
Row = tuple[int, str, date, date | None, int, int, int]
ANSWER_FIELDS = (
    "response__ticket_id", "response__kind", "question__kind", "number", "response__created_at",
)  # fmt: skip
# The answers any mark counts: numbers of ratings and scores.
ANSWERS = Q(number__isnull=False, question__kind__in=("rating", "score"))


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def of_deadline(row: Sequence, tz) -> Mark | None:
    """``sla_<target>_breached`` on the day it was missed; else ``sla_<target>_met`` on the
    day it was met. ``row``: the deadline's ``DEADLINE_FIELDS``."""
    ticket_id, target, state, met_at, breached_at = row
    if target not in TARGETS:
        return None
    if breached_at is not None:
        return ticket_id, f"sla_{target}_breached", breached_at.astimezone(tz).date()
    if state == Deadline.State.MET and met_at is not None:
        return ticket_id, f"sla_{target}_met", met_at.astimezone(tz).date()
    return None


def of_event(row: Sequence, tz) -> Mark | None:
    """``row``: (ticket id, the event's kind, when)."""
    ticket_id, kind, at = row
    measure = EVENT_MEASURES.get(kind)
    return (ticket_id, measure, at.astimezone(tz).date()) if measure else None


def of_consultation(row: Sequence, tz) -> Mark | None:
    """Answered on time (by its due time) or late, on the day of the answer. ``row``: the
    consultation's ``CONSULTATION_FIELDS``."""
    ticket_id, answered_at, due_at = row
    if answered_at is None or due_at is None:
        return None
    measure = "consultation_on_time" if answered_at <= due_at else "consultation_late"
    return ticket_id, measure, answered_at.astimezone(tz).date()


def of_answer(row: Sequence, tz) -> list[Mark]:
    """A survey answer's marks, on the day of its response: the ticket rated or scored
    (distinct tickets), and the sums the averages, CSAT and NPS are made of. ``row``: the
    answer's ``ANSWER_FIELDS``."""
    ticket_id, response_kind, question_kind, number, created_at = row
    day = created_at.astimezone(tz).date()
    if response_kind == "satisfaction" and question_kind == "rating":
        sums = {"rating_count": 1, "rating_sum": number, "rating_high": int(number >= 4)}
        distinct = "rated"
    elif response_kind == "satisfaction" and question_kind == "score":
        sums = {"score_count": 1, "score_promoters": int(number >= 9)}
        sums["score_detractors"] = int(number <= 6)
        distinct = "scored"
    elif response_kind == "operator_rating" and question_kind == "rating":
        sums, distinct = {"operator_count": 1, "operator_sum": number}, None
    else:
        return []
    found: list[Mark] = [(ticket_id, name, day, value) for name, value in sums.items()]
    return found + ([(ticket_id, distinct, day)] if distinct else [])


def rows(marks: Iterable[Mark], keys: dict[int, tuple[int, int]]) -> list[Row]:
    """The marks as ReportMark rows: one per ticket, measure and day, each with the ticket's
    day of the same measure before it (a count of distinct tickets) or the day's sum (a
    survey sum), for the ticket's pool and agent ``keys``."""
    days: dict[tuple[int, str], set[date]] = defaultdict(set)
    sums: dict[tuple[int, str, date], int] = defaultdict(int)
    for mark in marks:
        ticket_id, measure, day = mark[0], mark[1], mark[2]
        if measure in SUMS and len(mark) == 4:
            sums[(ticket_id, measure, day)] += mark[3]
        else:
            days[(ticket_id, measure)].add(day)
    result: list[Row] = []
    for (ticket_id, measure), found in sorted(days.items()):
        pool, agent = keys.get(ticket_id, (0, 0))
        previous = None
        for day in sorted(found):
            result.append((ticket_id, measure, day, previous, pool, agent, 1))
            previous = day
    for (ticket_id, measure, day), total in sorted(sums.items()):
        if total:
            pool, agent = keys.get(ticket_id, (0, 0))
            result.append((ticket_id, measure, day, None, pool, agent, total))
    return result


def count(rows: Iterable[Row], into: dict, sign: int = 1) -> None:
    """Add (or take out) what ``rows`` count in the roll-up's day rows ``into``."""
    for _ticket, measure, day, _previous, pool, agent, value in rows:
        into[(day, pool, agent)][measure] += sign * value
