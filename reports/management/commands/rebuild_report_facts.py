from django.core.management.base import BaseCommand

from reports import rollup
from reports.services import refresh_facts
from tickets.models import Ticket


class Command(BaseCommand):
    help = (
        "Recompute every ticket's report facts and events, then the daily roll-up from the "
        "facts (safe to run at any time)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, batch_size, **options):
        last, done = 0, 0
        while True:
            ids = list(
                Ticket.objects.filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                break
            refresh_facts(ids)
            last, done = ids[-1], done + len(ids)
        days = rollup.rebuild()
        self.stdout.write(f"Rebuilt the report facts of {done} tickets ({days} roll-up rows).")
