"""Exact medians of the durations without sorting a period's facts: a histogram per day.

``ReportDuration`` counts the facts' durations per day (``settings.TIME_ZONE``; the day of
the date the measure counts on: the first response, the solution), measure and bucket.
The buckets are exact integer ranges of seconds, about 9 % wide (below 16 s, one second
each; above, the four leading bits of the value), so a period's histogram is a few
thousand rows whatever the number of tickets. The median's rank(s) are found by walking
the period's cumulative bucket counts; the values at those ranks are then read from the
facts, within the one bucket, through an index on (duration, date). The result is the
median of the facts exactly, as ``percentile_cont(0.5)`` computes it (the mean of the two
middle values for an even count).

Kept by ``refresh_facts`` with atomic increments (the ticket's old durations out, new in),
rebuilt with the roll-up. It holds the whole desk (no pool or agent): it serves the totals
of a scope that selects every ticket (a supervisor's dashboard); a pool's or an agent's
medians read their facts, a few thousand rows.
"""

from collections import Counter, defaultdict
from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from reports.models import ReportDuration, TicketFact

# measure -> (the date it counts on, the duration)
MEDIANS = {
    "first_response_median": ("first_response_at", "first_response_seconds"),
    "first_response_business_median": ("first_response_at", "first_response_business_seconds"),
    "handling_median": ("finished_at", "handling_seconds"),
    "handling_business_median": ("finished_at", "handling_business_seconds"),
}
Key = tuple[date, str, int]  # day, measure, bucket


def bucket(seconds: int) -> int:
    """A monotonic bucket number: ``seconds`` itself below 16; above, 8 per power of two."""
    if seconds < 16:
        return seconds
    exponent = seconds.bit_length()
    return exponent * 8 + ((seconds >> (exponent - 4)) & 7)


def bounds(number: int) -> tuple[int, int]:
    """The seconds ``[low, high)`` of bucket ``number``."""
    if number < 16:
        return number, number + 1
    exponent, mantissa = divmod(number, 8)
    return (8 + mantissa) << (exponent - 4), (9 + mantissa) << (exponent - 4)


def contributions(fact, into: dict[Key, int], sign: int = 1, zone=None) -> None:
    zone = zone or ZoneInfo(settings.TIME_ZONE)
    for measure, (moment_field, value_field) in MEDIANS.items():
        moment, value = getattr(fact, moment_field), getattr(fact, value_field)
        if moment is not None and value is not None:
            into[(moment.astimezone(zone).date(), measure, bucket(value))] += sign


def changes(old, new) -> dict[Key, int]:
    deltas: Counter = Counter()
    zone = ZoneInfo(settings.TIME_ZONE)
    for sign, facts in ((-1, old), (1, new)):
        for fact in facts:
            contributions(fact, deltas, sign, zone)
    return {key: value for key, value in deltas.items() if value}


def apply(deltas: dict[Key, int]) -> None:
    """Add ``deltas`` to the histogram: one upsert per row, incrementing what is there."""
    if not deltas:
        return
    table = ReportDuration._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (day, measure, bucket, count) VALUES (%s, %s, %s, %s) "  # noqa: S608
            f"ON CONFLICT (day, measure, bucket) DO UPDATE SET count = {table}.count + "
            f"excluded.count",
            [(*key, deltas[key]) for key in sorted(deltas)],
        )


def write(totals: dict[Key, int], model=ReportDuration) -> None:
    """Replace the histogram by ``totals`` (a rebuild)."""
    model.objects.all().delete()
    model.objects.bulk_create(
        (
            model(day=day, measure=measure, bucket=number, count=count)
            for (day, measure, number), count in totals.items()
            if count
        ),
        batch_size=5000,
    )


def medians(periods: dict, keys) -> dict[str, dict[str, float | None]]:
    """``{period name: {measure: median}}`` of the whole desk, in two queries: the periods'
    histograms, then the values at the middle ranks within their buckets."""
    keys = [key for key in keys if key in MEDIANS]
    spans = sorted({(p.start, p.end) for p in periods.values()})
    first, last = min(s for s, _e in spans), max(e for _s, e in spans)
    counts: dict[tuple[str, str], Counter] = defaultdict(Counter)
    rows = (
        ReportDuration.objects.filter(day__range=(first, last), measure__in=keys)
        .order_by()
        .values_list("day", "measure", "bucket", "count")
    )
    for day, measure, number, count in rows:
        for name, period in periods.items():
            if period.start <= day <= period.end:
                counts[(name, measure)][number] += count
    result: dict[str, dict[str, float | None]] = {name: {} for name in periods}
    parts = []  # (name, measure, bucket, offset in it)
    for name in periods:
        for measure in keys:
            histogram = counts[(name, measure)]
            total = sum(histogram.values())
            result[name][measure] = None
            if not total:
                continue
            for rank in sorted({(total - 1) // 2, total // 2}):
                below = 0
                for number in sorted(histogram):
                    if rank < below + histogram[number]:
                        parts.append((name, measure, number, rank - below))
                        break
                    below += histogram[number]
    values = _values_at(parts, periods)
    for name in periods:
        for measure in keys:
            found = [
                value
                for value, part in zip(values, parts, strict=True)
                if part[:2] == (name, measure) and value is not None
            ]
            if found:
                result[name][measure] = sum(found) / len(found)
    return result


def _values_at(parts, periods) -> list[int | None]:
    """The duration at each ``(period, measure, bucket, offset)``: one UNION ALL query."""
    if not parts:
        return []
    quote = connection.ops.quote_name
    table = quote(TicketFact._meta.db_table)
    selects, params = [], []
    for i, (name, measure, number, offset) in enumerate(parts):
        moment, value = (quote(column) for column in MEDIANS[measure])
        low, high = bounds(number)
        start, end = periods[name].bounds()
        # Names from MEDIANS, never from input; the values are parameters.
        selects.append(
            f"SELECT * FROM (SELECT {i} AS part, {value} AS value FROM {table} "  # noqa: S608
            f"WHERE {value} >= %s AND {value} < %s AND {moment} >= %s AND {moment} <= %s "
            f"ORDER BY {value} LIMIT 1 OFFSET %s) AS part{i}"
        )
        adapt = connection.ops.adapt_datetimefield_value  # as the ORM passes them
        params += [low, high, adapt(start), adapt(end), offset]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), params)
        found = dict(cursor.fetchall())
    # A value missing means a histogram out of step with the facts (rebuild_report_facts
    # repairs it): the median of the values found rather than an error page.
    return [found.get(i) for i in range(len(parts))]
