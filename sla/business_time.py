"""Business time: working seconds added to an instant, and counted between two instants.

A calendar's working intervals are wall-clock times in its time zone. Each interval is
turned into two real instants for its date, so a day on which clocks change has an hour
more or less of working time, exactly as the people working it live it. A time that does
not exist that day (the skipped hour) maps to the instant the clocks jumped to; "23:59"
as an end means the end of the day.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holiday_data

# A calendar with no working time at all would loop forever; no deadline is further away.
MAX_DAYS = 3 * 366
END_OF_DAY = time(23, 59)


@lru_cache(maxsize=64)
def public_holidays(country: str, subdivision: str = "") -> holiday_data.HolidayBase:
    """The ``holidays`` package's public holidays (years filled in lazily as asked)."""
    return holiday_data.country_holidays(country, subdiv=subdivision or None)


@dataclass(frozen=True)
class Schedule:
    """A calendar as plain data: everything the arithmetic needs, no queries."""

    zone: ZoneInfo
    # weekday (0 = Monday) -> ((start, end), ...); end None means the end of the day
    intervals: dict[int, tuple[tuple[time, time | None], ...]]
    closed: frozenset[date] = frozenset()
    country: str = ""
    subdivision: str = ""
    _spans: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        default_factory=dict, compare=False, repr=False
    )

    def is_closed(self, day: date) -> bool:
        if day in self.closed:
            return True
        return bool(self.country) and day in public_holidays(self.country, self.subdivision)

    def spans(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working intervals of one local date as UTC instants, in order."""
        cached = self._spans.get(day)
        if cached is not None:
            return cached
        result: list[tuple[datetime, datetime]] = []
        if not self.is_closed(day):
            for start, end in self.intervals.get(day.weekday(), ()):
                begins = datetime.combine(day, start, tzinfo=self.zone).astimezone(UTC)
                if end is None:
                    ends_local = datetime.combine(day + timedelta(days=1), time(0), self.zone)
                else:
                    ends_local = datetime.combine(day, end, tzinfo=self.zone)
                ends = ends_local.astimezone(UTC)
                if ends > begins:
                    result.append((begins, ends))
        spans = tuple(sorted(result))
        if len(self._spans) < 4096:
            self._spans[day] = spans
        return spans

    def days_from(self, instant: datetime) -> Iterator[date]:
        # Start a day early: an instant just after local midnight may still be inside the
        # previous date's "until the end of the day" interval on a day clocks went back.
        day = instant.astimezone(self.zone).date() - timedelta(days=1)
        for offset in range(MAX_DAYS):
            yield day + timedelta(days=offset)


class NoWorkingTimeError(ValueError):
    pass


def add_business_time(schedule: Schedule, start: datetime, seconds: float) -> datetime:
    """The instant at which ``seconds`` of working time after ``start`` have passed (UTC)."""
    start = start.astimezone(UTC)
    if seconds <= 0:
        return start
    remaining = float(seconds)
    for day in schedule.days_from(start):
        for begins, ends in schedule.spans(day):
            if ends <= start:
                continue
            begins = max(begins, start)
            available = (ends - begins).total_seconds()
            if remaining <= available:
                return begins + timedelta(seconds=remaining)
            remaining -= available
    raise NoWorkingTimeError(f"no working time within {MAX_DAYS} days of {start.isoformat()}")


def business_seconds_between(schedule: Schedule, start: datetime, end: datetime) -> float:
    """Working seconds from ``start`` to ``end`` (0 when end is not after start)."""
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        return 0.0
    total = 0.0
    for day in schedule.days_from(start):
        spans = schedule.spans(day)
        if spans and spans[0][0] >= end:
            break
        for begins, ends in spans:
            overlap = (min(ends, end) - max(begins, start)).total_seconds()
            if overlap > 0:
                total += overlap
        if day > end.astimezone(schedule.zone).date():
            break
    return total


def is_working_time(schedule: Schedule, instant: datetime) -> bool:
    """Whether ``instant`` falls inside one of the calendar's working intervals."""
    instant = instant.astimezone(UTC)
    local_day = instant.astimezone(schedule.zone).date()
    for day in (local_day - timedelta(days=1), local_day):
        if any(begins <= instant < ends for begins, ends in schedule.spans(day)):
            return True
    return False


def is_working_day(schedule: Schedule, day: date) -> bool:
    """Whether the calendar has any working time on this local date."""
    return bool(schedule.spans(day))


def add_business_days(schedule: Schedule, start: datetime, days: int) -> datetime:
    """The same local time of day on the ``days``-th working day after ``start``'s date (UTC).

    Resolved on a Friday at 17:00 with three days: Wednesday at 17:00 (Monday, Tuesday,
    Wednesday), a holiday or closed day in between not counted. A time of day that does not
    exist on the target date (the hour skipped when clocks go forward) is the instant the
    clocks jumped to.
    """
    local = start.astimezone(schedule.zone)
    if days <= 0:
        return start.astimezone(UTC)
    counted = 0
    day = local.date()
    for _ in range(MAX_DAYS):
        day += timedelta(days=1)
        if is_working_day(schedule, day):
            counted += 1
            if counted == days:
                wall = datetime.combine(day, local.time().replace(tzinfo=None), schedule.zone)
                return wall.astimezone(UTC).astimezone(schedule.zone).astimezone(UTC)
    raise NoWorkingTimeError(f"no {days} working days within {MAX_DAYS} days of {start}")


def weekdays(zone: str) -> Schedule:
    """Monday to Friday, all day, no public holidays: the fallback when a pool has no calendar."""
    whole_day = ((time(0), None),)
    return Schedule(zone=ZoneInfo(zone), intervals={day: whole_day for day in range(5)})
