from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from tickets.models import TicketSequence


def next_ticket_number(now=None) -> str:
    """Hand out the next "YYYY-NNNNNN" number; must run inside the creating transaction.

    The UPDATE takes a row lock that is held until commit, so two creators never read the
    same value; a rolled-back creation gives its number back.
    """
    year = (now or timezone.now()).year
    if not TicketSequence.objects.filter(year=year).update(last=F("last") + 1):
        try:
            with transaction.atomic():
                TicketSequence.objects.create(year=year, last=1)
        except IntegrityError:
            # Another creator made the row first: take the next value from it.
            TicketSequence.objects.filter(year=year).update(last=F("last") + 1)
    last = TicketSequence.objects.values_list("last", flat=True).get(year=year)
    return f"{year}-{last:06d}"
