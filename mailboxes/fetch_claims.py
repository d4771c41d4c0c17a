"""One fetch of a mailbox at a time: the poller's runs and the IDLE listener's take turns.

Two fetches of one mailbox at once store nothing twice (the unique constraints see to
that), but both download every new message, and with "move" or "delete" the slower one
finds its listed message gone and records a failure (and backs off). So a fetch first
claims the mailbox with a conditional UPDATE: a token and a lease, which a dead worker's
claim outlives by at most MAIL_FETCH_LEASE_SECONDS.

A fetch asked for while another one runs does not wait and does not give up: it sets
``fetch_again``, and the running fetch goes round once more before it lets go, so mail
that arrived after it listed the folder (the IDLE listener's news) is not left for the
next poll. Letting go is conditional on nobody having asked, so no request falls between
the last round and the release.
"""

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from mailboxes import ingest
from mailboxes.ingest import FetchResult, HandOver
from mailboxes.models import Mailbox

logger = logging.getLogger(__name__)

# Rounds one claim may run for requests made meanwhile; past that the poll picks up the rest.
MAX_ROUNDS = 20


def _lease_end():
    return timezone.now() + timedelta(seconds=settings.MAIL_FETCH_LEASE_SECONDS)


def claim_fetch(mailbox_id: int) -> str | None:
    """The claim's token, or None: another fetch holds the mailbox (and will go round again).

    None too when the mailbox is gone or inactive.
    """
    token = uuid.uuid4().hex
    mailbox = Mailbox.objects.filter(pk=mailbox_id, active=True)
    for _attempt in range(3):
        now = timezone.now()
        free = Q(fetch_claimed_until__isnull=True) | Q(fetch_claimed_until__lt=now)
        if mailbox.filter(free).update(
            fetch_claim=token, fetch_claimed_until=_lease_end(), fetch_again=False
        ):
            return token
        # Held: ask the holder for another round. Zero rows: it let go in between; try again.
        if mailbox.filter(fetch_claimed_until__gte=now).update(fetch_again=True):
            return None
        if not mailbox.exists():
            return None
    return None


def _release(mailbox_id: int, token: str, *, unless_asked: bool) -> bool:
    """Let go of our claim; with ``unless_asked``, only when nobody asked for another round."""
    rows = Mailbox.objects.filter(pk=mailbox_id, fetch_claim=token)
    if unless_asked:
        rows = rows.filter(fetch_again=False)
    return bool(rows.update(fetch_claim="", fetch_claimed_until=None))


def _next_round(mailbox_id: int, token: str) -> bool:
    # Still ours and asked again: renew the lease and clear the request we are answering.
    return bool(
        Mailbox.objects.filter(pk=mailbox_id, fetch_claim=token, fetch_again=True).update(
            fetch_again=False, fetch_claimed_until=_lease_end()
        )
    )


def fetch_mailbox_exclusively(
    mailbox_id: int, *, hand_over: HandOver = lambda _pk: None
) -> FetchResult | None:
    """ingest.fetch_mailbox, but only while holding the mailbox's claim; rounds added up.

    None when another fetch holds it (that one goes round again for us), or on a failure
    (recorded on the mailbox by the fetch). Safe to run twice, or twice at once.
    """
    token = claim_fetch(mailbox_id)
    if token is None:
        logger.info("mail.fetch_skipped mailbox=%s reason=another fetch runs", mailbox_id)
        return None
    total: FetchResult | None = None
    try:
        for _round in range(MAX_ROUNDS):
            result = ingest.fetch_mailbox(mailbox_id, hand_over=hand_over)
            if result is None:
                return total
            total = _add(total, result)
            if result.capped or _release(mailbox_id, token, unless_asked=True):
                # Capped: the dispatch after the processing takes the rest (back-pressure).
                return total
            if not _next_round(mailbox_id, token):
                return total  # the lease ran out and someone else holds it now
        return total
    finally:
        _release(mailbox_id, token, unless_asked=False)


def _add(total: FetchResult | None, result: FetchResult) -> FetchResult:
    if total is None:
        return result
    total.stored += result.stored
    total.duplicates += result.duplicates
    total.refused += result.refused
    total.capped = result.capped
    return total
