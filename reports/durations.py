"""Exact medians of the durations without sorting a period's facts: a histogram per day.

``ReportDuration`` counts the facts' durations per day (``settings.TIME_ZONE``; the day of
the date the measure counts on: the first response, the solution), measure and bucket.
The buckets are exact integer ranges of seconds, about 9 % wide (below 16 s, one second
each; above, the four leading bits of the value), so a period's histogram is a few
thousand rows whatever the number of tickets. The median's rank(s) are found by walking
the period's cumulative bucket counts; the values at those ranks are then read from
``ReportDurationValue`` (the same counts per exact value), within the one bucket: a few
thousand rows at most, one per value and day when every duration is the same. The result
is the median of the facts exactly, as ``percentile_cont(0.5)`` computes it (the mean of
the two middle values for an even count).

Kept by ``refresh_facts`` with atomic increments (the ticket's old durations out, new in),
rebuilt with the roll-up. It holds the whole desk (no pool or agent): it serves the totals
of a scope that selects every ticket (a supervisor's dashboard); a pool's or an agent's
medians read their facts, a few thousand rows.
"""

from collections import Counter, defaultdict
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Q, Sum

from reports.models import ReportDuration, ReportDurationValue

# measure -> (the date it counts on, the duration)
MEDIANS = {
    "first_response_median": ("first_response_at", "first_response_seconds"),
    "first_response_business_median": ("first_response_at", "first_response_business_seconds"),
    "handling_median": ("finished_at", "handling_seconds"),
    "handling_business_median": ("finished_at", "handling_business_seconds"),
}
Key = tuple[date, str, int, int]  # day, measure, bucket, value


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
            into[(moment.astimezone(zone).date(), measure, bucket(value), value)] += sign


def changes(old, new) -> dict[Key, int]:
    deltas: Counter = Counter()
    zone = ZoneInfo(settings.TIME_ZONE)
    for sign, facts in ((-1, old), (1, new)):
        for fact in facts:
            contributions(fact, deltas, sign, zone)
    return {key: value for key, value in deltas.items() if value}


def _by_bucket(counts: dict[Key, int]) -> Counter:
    coarse: Counter = Counter()
    for (day, measure, number, _value), count in counts.items():
        coarse[(day, measure, number)] += count
    return coarse


def apply(deltas: dict[Key, int]) -> None:
    """Add ``deltas`` to both tables: one upsert per row, incrementing what is there."""
    if not deltas:
        return
    coarse = {key: count for key, count in _by_bucket(deltas).items() if count}
    table, values = ReportDuration._meta.db_table, ReportDurationValue._meta.db_table
    # Names from the models, never from input; the values are parameters.
    with connection.cursor() as cursor:
        if coarse:
            cursor.executemany(
                f"INSERT INTO {table} (day, measure, bucket, count) VALUES (%s, %s, %s, %s) "  # noqa: S608
                f"ON CONFLICT (day, measure, bucket) DO UPDATE SET count = {table}.count + "
                f"excluded.count",
                [(*key, coarse[key]) for key in sorted(coarse)],
            )
        cursor.executemany(
            f"INSERT INTO {values} (measure, bucket, value, day, count) "  # noqa: S608
            f"VALUES (%s, %s, %s, %s, %s) ON CONFLICT (measure, bucket, value, day) "
            f"DO UPDATE SET count = {values}.count + excluded.count",
            [(measure, number, value, day, deltas[(day, measure, number, value)])
             for day, measure, number, value in sorted(deltas)],
        )  # fmt: skip


def write(totals: dict[Key, int], apps=None) -> None:
    """Replace both tables by ``totals`` (a rebuild)."""
    coarse_model = apps.get_model("reports", "ReportDuration") if apps else ReportDuration
    model = apps.get_model("reports", "ReportDurationValue") if apps else ReportDurationValue
    coarse_model.objects.all().delete()
    coarse_model.objects.bulk_create(
        (
            coarse_model(day=day, measure=measure, bucket=number, count=count)
            for (day, measure, number), count in _by_bucket(totals).items()
            if count
        ),
        batch_size=5000,
    )
    model.objects.all().delete()
    model.objects.bulk_create(
        (
            model(day=day, measure=measure, bucket=number, value=value, count=count)
            for (day, measure, number, value), count in totals.items()
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
    # Each period's counts per measure and bucket, added up by the database (a few hundred
    # rows out of tens of thousands).
    names = list(periods)
    rows = (
        ReportDuration.objects.filter(day__range=(first, last), measure__in=keys)
        .order_by()
        .values("measure", "bucket")
        .annotate(
            **{
                f"p{i}": Sum("count", filter=Q(day__range=(periods[name].start, periods[name].end)))
                for i, name in enumerate(names)
            }
        )
    )
    for each in rows:
        row: dict[str, Any] = dict(each)  # the annotations' names are made here
        for i, name in enumerate(names):
            if row[f"p{i}"]:
                counts[(name, row["measure"])][row["bucket"]] += row[f"p{i}"]
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
    """The duration at each ``(period, measure, bucket, offset)``: one UNION ALL query, each
    part the first value of its bucket whose running count passes the offset."""
    if not parts:
        return []
    table = connection.ops.quote_name(ReportDurationValue._meta.db_table)
    selects, params = [], []
    for i, (name, measure, number, offset) in enumerate(parts):
        period = periods[name]
        # The table's name from the model; the values are parameters.
        selects.append(
            f"SELECT * FROM (SELECT {i} AS part, value FROM (SELECT value, "  # noqa: S608
            f"SUM(SUM(count)) OVER (ORDER BY value) AS upto FROM {table} WHERE measure = %s "
            f"AND bucket = %s AND day BETWEEN %s AND %s GROUP BY value) AS counts{i} "
            f"WHERE upto > %s ORDER BY value LIMIT 1) AS part{i}"
        )
        params += [measure, number, period.start, period.end, offset]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(selects), params)
        found = dict(cursor.fetchall())
    # A value missing means tables out of step with the facts (rebuild_report_facts repairs
    # them): the median of the values found rather than an error page.
    return [found.get(i) for i in range(len(parts))]
