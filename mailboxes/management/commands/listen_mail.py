"""Hold an IMAP IDLE connection to every IMAP mailbox and fetch new mail as it arrives."""

import signal

from django.core.management.base import BaseCommand

from mailboxes.idle import Listener


class Command(BaseCommand):
    help = (
        "Listen for new mail with IMAP IDLE (one process, every active IMAP mailbox whose "
        "server offers IDLE) and fetch it through the intake queue as it arrives. Polling "
        "(celery beat) stays on as the fallback. Stops cleanly on SIGTERM or Ctrl-C."
    )

    def handle(self, *args, **options):
        listener = Listener()
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signal_number, lambda *_args: listener.stop())
        listener.run()
