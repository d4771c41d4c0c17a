from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from helpdesk.crypto import EncryptedTextField


class Command(BaseCommand):
    help = (
        "Rewrite every stored credential with the first encryption key (after putting a new "
        "SECRET_KEY first and the old one in SECRET_KEY_FALLBACKS, or a new key first in "
        "FIELD_ENCRYPTION_KEYS). Safe to run again."
    )

    def handle(self, *args, **options):
        for model in apps.get_models():
            fields = [f.name for f in model._meta.fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            rewritten = 0
            with transaction.atomic():
                # Reading decrypts with any key; writing encrypts with the first one.
                for row in model._default_manager.select_for_update().only("pk", *fields):
                    model._default_manager.filter(pk=row.pk).update(
                        **{name: getattr(row, name) for name in fields}
                    )
                    rewritten += 1
            self.stdout.write(f"{model._meta.label}: {rewritten} rows re-encrypted")
