from django.db import IntegrityError, connections, router, transaction
from django.db.models import F
from django.utils import timezone

from tickets.models import TicketSequence


def _increment(year: int, count: int = 1) -> int | None:
    """The year's counter plus ``count``, written and read back; None when the year has no row."""
    connection = connections[router.db_for_write(TicketSequence)]
    if not connection.features.can_return_rows_from_update:
        if not TicketSequence.objects.filter(year=year).update(last=F("last") + count):
            return None
        return TicketSequence.objects.values_list("last", flat=True).get(year=year)
    # PostgreSQL and SQLite: one round trip instead of an UPDATE and a SELECT. Same lock.
    quote = connection.ops.quote_name
    table = quote(TicketSequence._meta.db_table)
    last = quote(TicketSequence._meta.get_field("last").get_attname_column()[1] or "last")
    year_column = quote(TicketSequence._meta.get_field("year").get_attname_column()[1] or "year")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {last} = {last} + %s WHERE {year_column} = %s RETURNING {last}",  # noqa: S608
            [count, year],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def next_ticket_numbers(count: int, now=None) -> list[str]:
    """Hand out ``count`` consecutive "YYYY-NNNNNN" numbers in one UPDATE.

    Must run inside the creating transaction: the UPDATE takes a row lock that is held
    until commit, so two creators never read the same value, and a rolled-back creation
    gives its numbers back.
    """
    if count <= 0:
        return []
    year = (now or timezone.now()).year
    last = _increment(year, count)
    if last is None:
        try:
            with transaction.atomic():
                TicketSequence.objects.create(year=year, last=count)
            last = count
        except IntegrityError:
            # Another creator made the row first: take the next values from it.
            last = _increment(year, count)
    if last is None:
        raise TicketSequence.DoesNotExist(f"no ticket counter for {year}")
    return [f"{year}-{number:06d}" for number in range(last - count + 1, last + 1)]


def next_ticket_number(now=None) -> str:
    """The next "YYYY-NNNNNN" number; must run inside the creating transaction."""
    return next_ticket_numbers(1, now)[0]
