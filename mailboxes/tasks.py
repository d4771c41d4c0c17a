"""Celery tasks of the mail path: thin wrappers that take IDs and call the services."""

from celery import shared_task
from django.conf import settings

from helpdesk.celery import enqueue_on_commit
from mailboxes import digests, fetch_claims, ingest, notifications, outbound, processing

# Redis priorities run 0 (first) to 9 (last); a job sent without one is taken first.
SPARE_CHAIN_PRIORITY = 9


@shared_task
def dispatch_due_mailboxes_task():
    """Beat, every few seconds: enqueue one fetch per mailbox whose time has come."""
    for mailbox_id in ingest.claim_due_mailboxes():
        fetch_mailbox_task.delay(mailbox_id)


class _Batcher:
    """Stored ids, handed to the workers as ``MAIL_PROCESS_CHAINS`` chains on the mailbox's
    backlog (each batch queues its chain's next when it is done).

    The first chain starts as soon as a batch is stored, so a flood is processed while the
    fetch goes on (it claims the oldest stored mail, committed chunk by chunk); the spare
    chains start at the end of the run. A short run (one batch or less) is one job.

    The chains keep at most that many batches of this mailbox in the intake queue at a
    time, so the batches of different mailboxes take turns instead of one flood queueing
    all its own ahead of another mailbox's single mail; all but the first chain wait behind
    any other intake job (priority), so they only use a worker nothing else wants.
    """

    def __init__(self, mailbox_id: int, size: int = processing.BATCH_SIZE):
        self.mailbox_id = mailbox_id
        self.size = size
        self.pending: list[int] = []
        self.started = False

    def add(self, raw_message_id: int) -> None:
        self.pending.append(raw_message_id)
        if not self.started and len(self.pending) >= self.size:
            self.started = True
            self.pending = []  # the chain claims them (and what is stored after them)
            start_backlog_chains(self.mailbox_id, chains=1)

    def flush(self) -> None:
        ids, self.pending = self.pending, []
        # A broker outage is logged; the rows stay new and requeue_stale_raw_messages_task
        # hands them over later.
        if not ids:
            return
        if self.started:
            # The first chain may have run dry before the fetch ended: at least one chain
            # takes the rest.
            spare = max(settings.MAIL_PROCESS_CHAINS - 1, 1)
            start_backlog_chains(self.mailbox_id, chains=spare, spare=True)
        else:  # less than a batch in all (a full one starts the first chain)
            enqueue_on_commit(process_raw_messages_task, ids)


def start_backlog_chains(
    mailbox_id: int, chains: int | None = None, *, spare: bool = False
) -> None:
    """Queue the chains that process this mailbox's stored mail, oldest first, batch by batch.

    ``spare``: all of them wait behind other intake jobs (the first chain already runs).
    """
    for number in range(chains or settings.MAIL_PROCESS_CHAINS):
        priority = None if number == 0 and not spare else SPARE_CHAIN_PRIORITY
        enqueue_on_commit(process_mailbox_backlog_task, mailbox_id, priority, priority=priority)


@shared_task
def fetch_mailbox_task(mailbox_id):
    """Fetch one mailbox; errors are recorded on the mailbox (with back-off), not raised.

    The stored messages are processed in batches, the first while the fetch goes on. One
    fetch per mailbox at a time (the poller's and the IDLE listener's): see fetch_claims.
    """
    batcher = _Batcher(mailbox_id)
    try:
        fetch_claims.fetch_mailbox_exclusively(mailbox_id, hand_over=batcher.add)
    finally:
        batcher.flush()  # what was stored before an error is processed all the same


@shared_task
def process_raw_messages_task(raw_message_ids, then=()):
    """Process stored raw messages together (one transaction, set-based); safe to run twice.

    ``then``: the same mailbox's next ids. Their first batch goes to the back of the intake
    queue once this one is done, so that other mailboxes' batches take turns with them.
    """
    processing.process_raw_messages(raw_message_ids)
    if then:
        size = processing.BATCH_SIZE
        enqueue_on_commit(process_raw_messages_task, list(then[:size]), list(then[size:]))


@shared_task
def process_mailbox_backlog_task(mailbox_id, priority=None):
    """Process the mailbox's oldest stored mail that no worker holds (one batch), then queue
    the chain's next batch while there was any; safe to run twice (rows are claimed).

    ``priority``: the chain's broker priority, kept by its next batch (9: after any other
    intake job, so a fresh mail of another mailbox is never held up by a spare chain).
    """
    if processing.process_next_batch(mailbox_id):
        enqueue_on_commit(process_mailbox_backlog_task, mailbox_id, priority, priority=priority)


@shared_task
def send_outgoing_email_task(outgoing_email_ids):
    """Send outbox rows to customers (queue customer_mail), those that can be claimed.

    Failures go to retry with back-off. Safe to run twice: each row is claimed once. A
    single id (a job queued before jobs took lists) is a list of one.
    """
    outbound.send_outgoing_emails(_ids(outgoing_email_ids))


@shared_task
def send_internal_email_task(outgoing_email_ids):
    """Send internal outbox rows (queue internal_mail): the same claim, another queue."""
    outbound.send_outgoing_emails(_ids(outgoing_email_ids))


def _ids(value) -> list[int]:
    return [value] if isinstance(value, int) else list(value)


@shared_task
def send_due_outgoing_emails_task():
    """Beat, every minute: enqueue outbox rows that are due and have no job in the broker."""
    outbound.requeue_due_outgoing_emails()


@shared_task
def requeue_stale_raw_messages_task():
    """Beat: re-enqueue stored messages whose processing was never queued; idempotent."""
    ids = ingest.stale_new_raw_message_ids()
    for start in range(0, len(ids), processing.BATCH_SIZE):
        process_raw_messages_task.delay(ids[start : start + processing.BATCH_SIZE])


@shared_task
def send_due_digests_task():
    """Beat: queue the agents' digests whose period turned (claimed rows: safe to re-run)."""
    digests.send_due_digests()


@shared_task
def notify_tickets_opened_task(ticket_ids, actor_id=None):
    """The "ticket opened" notifications of new tickets, off the request that opened them
    (queued once per commit with all its tickets). Not idempotent: a second run of the same
    job mails again (Celery delivers a job once unless a worker dies mid-run)."""
    notifications.notify_tickets_opened(ticket_ids, actor_id=actor_id)
