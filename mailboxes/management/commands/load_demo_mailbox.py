"""Create the demo's local maildir mailbox (once): drop an .eml into it and it becomes a ticket.

The first time, it also settles the demo's history: the replies and notices the demo
tickets queued while they were made (``load_demo`` writes them through the real services)
are recorded as sent when written, never mailed, so a first ``make run`` sends no mail.
"""

from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db.models import F

from mailboxes.models import Mailbox, OutgoingEmail
from tickets.models import Pool


class Command(BaseCommand):
    help = "Create the demo maildir mailbox under var/maildir and print where to drop mail."

    def handle(self, *args, **options):
        root = Path(settings.BASE_DIR) / "var" / "maildir"
        for sub in ("new", "cur", "tmp"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        pool = Pool.objects.filter(active=True).order_by("pk").first()
        if pool is None:
            pool = Pool.objects.create(name="Support")
        mailbox, created = Mailbox.objects.get_or_create(
            name="Demo support",
            defaults={
                "kind": Mailbox.Kind.MAILDIR,
                "maildir_path": str(root),
                "pool": pool,
                "from_address": "support@helpdesk.localhost",
                "from_name": "Helpdesk",
                "fetch_interval": timedelta(seconds=10),
                "after_import": Mailbox.AfterImport.SEEN,
            },
        )
        if created:
            settled = OutgoingEmail.objects.filter(state=OutgoingEmail.State.QUEUED).update(
                state=OutgoingEmail.State.SENT, sent_at=F("created_at"), enqueued_at=None
            )
            self.stdout.write(f"Demo history: {settled} mails recorded as sent, none mailed.")
        state = "created" if created else "already present"
        self.stdout.write(
            f"Demo mailbox {mailbox.name!r} {state}: drop .eml files into {root / 'new'} "
            f"and they become tickets in {mailbox.pool} within {mailbox.fetch_interval.seconds} s."
        )
