"""Recompute every contact phone's E.164 column (after PHONE_DEFAULT_REGION changed)."""

from django.core.management.base import BaseCommand

from people.models import ContactPhone

BATCH = 2000


class Command(BaseCommand):
    help = "Fill ContactPhone.e164 for every stored number; safe to re-run."

    def handle(self, *args, **options):
        changed = 0
        batch: list[ContactPhone] = []
        for phone in ContactPhone.objects.only("pk", "number", "e164").iterator(chunk_size=BATCH):
            before = phone.e164
            phone.fill_numbers()
            if phone.e164 != before:
                batch.append(phone)
            if len(batch) >= BATCH:
                changed += ContactPhone.objects.bulk_update(batch, ["digits", "e164"])
                batch = []
        changed += ContactPhone.objects.bulk_update(batch, ["digits", "e164"])
        self.stdout.write(f"{changed} phone numbers updated.")
