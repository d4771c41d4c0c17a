"""Match every open ticket to its SLA policy and (re)compute its deadlines; safe to re-run.

For a first installation (tickets that existed before the sla app), or after editing
calendars and policies in bulk. Each thousand tickets are one short transaction.
"""

from django.core.management.base import BaseCommand

from sla.services import apply_policies
from tickets.models import Ticket

BATCH = 1000


class Command(BaseCommand):
    help = "Apply the SLA policies to every open ticket (deadlines started or recomputed)."

    def handle(self, *args, **options):
        last, done = 0, 0
        while True:
            ids = list(
                Ticket.objects.open()
                .filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", flat=True)[:BATCH]
            )
            if not ids:
                break
            apply_policies(ids)
            done, last = done + len(ids), ids[-1]
        self.stdout.write(f"SLA policies applied to {done} open tickets.")
