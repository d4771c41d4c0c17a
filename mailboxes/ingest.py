"""Fetch: every message is stored and committed as a RawMessage before it is marked on the server.

The order store → mark → enqueue is what makes a crash harmless: a worker killed after
the store finds the row on the next run (the store returns None for the duplicate) and
only then marks the message; killed before the store, the message is still new on the
server. Dedupe is the database's: unique (mailbox, uid) and (mailbox, message_id).

Messages are stored in chunks (one INSERT and one commit for up to STORE_CHUNK of them,
then each is marked) and the stored ids handed over (``hand_over``: tasks.py enqueues them
in batches for mailboxes.processing): the order per message is the same, only the round
trips are shared. This module never enqueues anything itself.
"""

import hashlib
import logging
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import policy
from email.parser import BytesHeaderParser

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import DataError, IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext

from mailboxes import refusals
from mailboxes.fetchers import Fetcher, open_fetcher
from mailboxes.models import Mailbox, RawMessage, raw_message_path
from mailboxes.parsing import MAX_HEADER_CHARS, _decode_words, _unescape
from mailboxes.text import db_text

logger = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=1)
# A stored message still new after this was never handed to a worker (see below).
STALE_AFTER = timedelta(minutes=5)
MIN_BACKOFF = timedelta(seconds=30)
HEADER_LIMIT = 256 * 1024
EXISTING_CHUNK = 500
# Fetched messages stored (and committed) together before they are marked on the server:
# one INSERT and one commit (a disk flush) per chunk instead of per message.
STORE_CHUNK = 50
STORE_CHUNK_BYTES = 8 * 2**20
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# Called with the id of each stored message to process, once its row is committed.
HandOver = Callable[[int], None]


@dataclass
class FetchResult:
    stored: list[int] = field(default_factory=list)
    duplicates: int = 0
    refused: int = 0
    # More new mail was listed than MAIL_FETCH_MAX_PER_RUN: the mailbox is due again at once.
    capped: bool = False


@dataclass
class HeaderPreview:
    message_id: str = ""
    subject: str = ""
    sender: str = ""


def _header_block(data: bytes) -> bytes:
    # Only the header is parsed here: the body may be megabytes and is the parser's job.
    match = _HEADER_END.search(data, 0, HEADER_LIMIT)
    return data[: match.start()] if match else data[:HEADER_LIMIT]


def normalize_message_id(value: str) -> str:
    """``<id@host>`` out of a header value with comments or spaces; empty when none."""
    match = _MESSAGE_ID.search(value)
    if match:
        return match.group(0)
    token = value.strip().split()[0].strip("<>") if value.strip() else ""
    return f"<{token}>" if token else ""


def preview_headers(data: bytes) -> HeaderPreview:
    """Message-ID, subject and sender from the header, for dedupe and the admin list.

    Raw header values decoded the forgiving way: the structured parsers of
    ``policy.default`` cost more than the rest of storing a message, and processing
    replaces subject and sender with what the full parse finds.
    """
    try:
        headers = BytesHeaderParser(policy=policy.compat32).parsebytes(_header_block(data))
        raw: dict[str, str] = {}
        for name, value in headers.raw_items():
            raw.setdefault(name.lower(), value)
        return HeaderPreview(
            message_id=db_text(normalize_message_id(_preview_text(raw.get("message-id", "")))),
            subject=_preview_text(raw.get("subject", ""))[:255],
            sender=_preview_text(raw.get("from", ""))[:255],
        )
    except Exception:  # unparseable headers still get stored (and fail later)
        return HeaderPreview()


def _preview_text(value: str) -> str:
    # Copied into the row's text columns: cleaned of what the database refuses.
    return db_text(" ".join(_unescape(_decode_words(value[:MAX_HEADER_CHARS])).split()))


def message_id_for(preview_id: str, sha256: str) -> str:
    """The stored Message-ID: the header's, or a deterministic one from the content."""
    if not preview_id:
        return f"<{sha256}@missing-message-id.invalid>"
    if len(preview_id) > 255:
        digest = hashlib.sha256(preview_id.encode("utf-8", "surrogateescape")).hexdigest()
        return f"<{digest}@long-message-id.invalid>"
    return preview_id


def _is_stored(mailbox: Mailbox, *, uid: str, message_id: str | None = None) -> bool:
    condition = Q(uid=uid)
    if message_id:
        condition |= Q(message_id=message_id)
    return RawMessage.objects.filter(condition, mailbox=mailbox).exists()


def _unsaved_raw(mailbox: Mailbox, uid: str, data: bytes) -> RawMessage:
    sha256 = hashlib.sha256(data).hexdigest()
    preview = preview_headers(data)
    raw = RawMessage(
        mailbox=mailbox,
        uid=uid,
        message_id=message_id_for(preview.message_id, sha256),
        sha256=sha256,
        size=len(data),
        subject=preview.subject,
        sender=preview.sender,
    )
    _save_file(raw, data)
    return raw


def _save_file(raw: RawMessage, data: bytes) -> None:
    """Write the mail under its own name (``raw/<day>/<sha256>.eml``) with one exclusive
    open: a third of what the storage API costs (name checks, a lock, a free-name search).
    When that name is taken (the same bytes again: a duplicate, or a fetch run twice) the
    storage picks a free one, as for any upload, so each row still points at its own file;
    so does the day's first mail (the storage makes the directory, with its permissions),
    and a storage that is not the local disk."""
    storage = raw.file.storage
    if isinstance(storage, FileSystemStorage):
        name = raw_message_path(raw, "")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        try:
            fd = os.open(storage.path(name), flags, 0o666)
        except (FileExistsError, FileNotFoundError):
            pass
        else:
            with os.fdopen(fd, "wb") as stored:
                if storage.file_permissions_mode is not None:
                    os.fchmod(stored.fileno(), storage.file_permissions_mode)
                stored.write(data)
            raw.file.name = name
            return
    raw.file.save(f"{raw.sha256}.eml", ContentFile(data), save=False)


def store_raw_messages(
    mailbox: Mailbox, messages: list[tuple[str, bytes]]
) -> list[RawMessage | None]:
    """Store each (uid, bytes): the files, then one INSERT and one commit for all.

    Safe to re-run. None in the result for each duplicate: by uid, or the same mail again by
    Message-ID (also within the list). A different mail reusing a stored Message-ID is kept, under a
    Message-ID derived from its content and flagged ``reused_message_id``. The constraints
    decide: ON CONFLICT DO NOTHING, then the rows are read back, and a row is ours when it
    points at the file we wrote. A chunk the database refuses is split until the message it
    refuses is alone, and that one is kept as refused with the reason.
    """
    raws = [_unsaved_raw(mailbox, uid, data) for uid, data in messages]
    # Committed before anything is marked. On an error the files stay: a commit whose
    # answer was lost may have kept the rows, and a stray file costs less than a lost one.
    _insert(raws)
    ours = _ours(mailbox, raws)
    reused = _reusing_message_ids(mailbox, [raw for raw in raws if raw.pk not in ours])
    if reused:
        for raw in reused:
            raw.message_id = f"<{raw.sha256}@reused-message-id.invalid>"
            raw.reused_message_id = True
        _insert(reused)
        ours = _ours(mailbox, raws)
    result: list[RawMessage | None] = []
    for raw in raws:
        if raw.pk in ours:
            result.append(raw)
        else:
            raw.pk = None
            raw.file.delete(save=False)
            result.append(None)
    return result


def _insert(raws: list[RawMessage]) -> None:
    """One INSERT and commit; when the database refuses it, the halves, down to one message.

    ignore_conflicts makes a duplicate no error: what still fails is a value the database
    refuses, and it must not hold back the rest of the chunk (or every later fetch).
    """
    if not raws:
        return
    try:
        with transaction.atomic(durable=True):
            RawMessage.objects.bulk_create(raws, ignore_conflicts=True)
    except (DataError, IntegrityError, ValueError) as error:
        if len(raws) > 1:
            half = len(raws) // 2
            _insert(raws[:half])
            _insert(raws[half:])
            return
        _insert_refused(raws[0], error)


def _insert_refused(raw: RawMessage, error: Exception) -> None:
    # The bytes are kept; the row holds nothing copied from the mail but its digest.
    logger.warning("mail.unstorable mailbox=%s uid=%s error=%s", raw.mailbox_id, raw.uid, error)
    raw.uid = db_text(raw.uid)[:255]  # a maildir file name can hold undecodable bytes
    raw.message_id = f"<{raw.sha256}@unstorable.invalid>"
    raw.subject = raw.sender = ""
    raw.state = RawMessage.State.REFUSED
    raw.reason = RawMessage.Reason.UNSTORABLE
    raw.error = db_text(f"{type(error).__name__}: {error}")[:5000]
    raw.processed_at = timezone.now()
    with transaction.atomic(durable=True):
        RawMessage.objects.bulk_create([raw], ignore_conflicts=True)


def _ours(mailbox: Mailbox, raws: list[RawMessage]) -> set[int]:
    """Set the pk of each raw whose row points at its file; the set of those pks."""
    rows = RawMessage.objects.filter(mailbox=mailbox, uid__in=[raw.uid for raw in raws])
    stored = {uid: (pk, name) for uid, pk, name in rows.values_list("uid", "pk", "file")}
    ours = set()
    for raw in raws:
        pk, name = stored.get(raw.uid, (None, None))
        if pk is not None and name == raw.file.name:
            raw.pk = pk
            raw._state.adding = False
            ours.add(pk)
    return ours


def _reusing_message_ids(mailbox: Mailbox, raws: list[RawMessage]) -> list[RawMessage]:
    """Of mail not stored, what is a different mail under a Message-ID already stored.

    A uid already stored, the same bytes, or the same content with other trace headers
    (delivered twice) is the same mail: a duplicate, as before.
    """
    if not raws:
        return []
    rows = RawMessage.objects.filter(
        Q(uid__in=[raw.uid for raw in raws]) | Q(message_id__in=[raw.message_id for raw in raws]),
        mailbox=mailbox,
    ).values_list("uid", "message_id", "sha256", "file")
    uids = set()
    by_message_id = {}
    for uid, message_id, sha256, name in rows:
        uids.add(uid)
        by_message_id[message_id] = (sha256, name)
    reused = []
    for raw in raws:
        if raw.uid in uids or raw.message_id not in by_message_id:
            continue
        sha256, name = by_message_id[raw.message_id]
        if sha256 != raw.sha256 and not _same_content(raw.file, name):
            reused.append(raw)
    return reused


def _same_content(file: FieldFile, other_name: str) -> bool:
    """Whether two stored messages are one mail: same body and same author headers."""
    if not other_name:
        return False
    try:
        with file.storage.open(other_name, "rb") as other:
            theirs = other.read()
    except OSError:
        return False
    file.open("rb")
    try:
        mine = file.read()
    finally:
        file.close()
    return _content_key(mine) == _content_key(theirs)


def _content_key(data: bytes) -> tuple:
    # What the author wrote, without the trace headers each delivery adds (Received, ...).
    match = _HEADER_END.search(data, 0, HEADER_LIMIT)
    body = data[match.end() :] if match else b""
    headers = BytesHeaderParser(policy=policy.compat32).parsebytes(_header_block(data))
    authored = tuple(str(headers.get(name, "")) for name in ("from", "subject", "date", "to"))
    return authored, hashlib.sha256(body).hexdigest()


def refuse_raw_message(
    mailbox: Mailbox, *, uid: str, size: int, headers: bytes = b""
) -> RawMessage | None:
    """Record a message too large to download, so it is visible and never fetched again.

    The sender is told once (mailboxes.refusals: never a robot, rate-limited per address).
    """
    preview = preview_headers(headers) if headers else HeaderPreview()
    uid_digest = hashlib.sha256(f"{mailbox.pk}:{uid}".encode()).hexdigest()
    # The body was never read, so the id cannot come from the content: it comes from the uid.
    message_id = preview.message_id or f"<{uid_digest}@too-large.invalid>"
    message_id = message_id_for(message_id, uid_digest)
    if _is_stored(mailbox, uid=uid, message_id=message_id):
        return None
    try:
        with transaction.atomic(durable=True):
            raw = RawMessage.objects.create(
                mailbox=mailbox,
                uid=uid,
                message_id=message_id,
                sha256="",
                size=size,
                subject=preview.subject,
                sender=preview.sender,
                state=RawMessage.State.REFUSED,
                reason=RawMessage.Reason.TOO_LARGE,
                error=refusals.refusal_reason(mailbox, size, on_server=True),
                processed_at=timezone.now(),
            )
            refusals.queue_refusal_notice(mailbox, headers=_header_block(headers), size=size)
            return raw
    except IntegrityError:
        return None


def _stored_uids(mailbox: Mailbox, uids: list[str]) -> dict[str, tuple[int, str]]:
    """uid → (pk, state) of the rows this mailbox already has, in a few bounded queries."""
    stored: dict[str, tuple[int, str]] = {}
    for start in range(0, len(uids), EXISTING_CHUNK):
        chunk = uids[start : start + EXISTING_CHUNK]
        rows = RawMessage.objects.filter(mailbox=mailbox, uid__in=chunk)
        stored.update(
            (uid, (pk, state)) for uid, pk, state in rows.values_list("uid", "pk", "state")
        )
    return stored


def _known_by_headers(mailbox: Mailbox, fetcher: Fetcher, uid: str, size: int) -> bool:
    # After a UIDVALIDITY change every uid looks new; the Message-ID in a small partial
    # fetch tells us whether we have it without downloading the whole message again. Of
    # another size it may be a different mail reusing the id: downloaded, the store decides.
    preview = preview_headers(fetcher.peek_headers(uid))
    if not preview.message_id:
        return False
    message_id = message_id_for(preview.message_id, "")
    return RawMessage.objects.filter(
        Q(uid=uid) | Q(message_id=message_id, size=size), mailbox=mailbox
    ).exists()


def fetch_messages(
    mailbox: Mailbox, fetcher: Fetcher, *, uidvalidity_changed: bool, hand_over: HandOver
) -> FetchResult:
    """Store every new message of an open fetcher, mark it, and hand it over for processing.

    Stored in chunks; ``hand_over`` gets each id to process once its chunk is committed.
    Safe to re-run (see fetch_mailbox).
    """
    result = FetchResult()
    _fetch_listed(mailbox, fetcher, result, hand_over, uidvalidity_changed=uidvalidity_changed)
    return result


def _fetch_listed(
    mailbox: Mailbox,
    fetcher: Fetcher,
    result: FetchResult,
    hand_over: HandOver,
    *,
    uidvalidity_changed: bool,
) -> None:
    listed = list(fetcher.list_new())
    stored = _stored_uids(mailbox, [uid for uid, _ in listed])
    pending: list[tuple[str, bytes]] = []
    pending_bytes = 0
    budget = settings.MAIL_FETCH_MAX_PER_RUN
    for uid, size in listed:
        if uid not in stored:
            if budget <= 0:
                result.capped = True
                break
            budget -= 1
        if uid in stored:
            if not fetcher.marks_on_server or stored[uid][1] == RawMessage.State.REFUSED:
                # POP3 keeping its mail, or a refused message left on the server on purpose:
                # the row is how we remember it.
                continue
            # Stored by a run that died before marking it: mark it now, download nothing.
            fetcher.mark_done(uid)
            result.duplicates += 1
            raw_id, state = stored[uid]
            if state == RawMessage.State.NEW:
                # That run may also have died before enqueueing; processing is idempotent.
                hand_over(raw_id)
            continue
        if refusals.is_too_large(mailbox, size):
            refuse_raw_message(mailbox, uid=uid, size=size, headers=fetcher.peek_headers(uid))
            fetcher.mark_refused(uid)
            result.refused += 1
            continue
        if uidvalidity_changed and _known_by_headers(mailbox, fetcher, uid, size):
            fetcher.mark_done(uid)
            result.duplicates += 1
            continue
        data = fetcher.fetch(uid)
        pending.append((uid, data))
        pending_bytes += len(data)
        if len(pending) >= STORE_CHUNK or pending_bytes >= STORE_CHUNK_BYTES:
            _store_and_mark(mailbox, fetcher, pending, result, hand_over)
            pending, pending_bytes = [], 0
    _store_and_mark(mailbox, fetcher, pending, result, hand_over)


def _store_and_mark(
    mailbox: Mailbox,
    fetcher: Fetcher,
    pending: list[tuple[str, bytes]],
    result: FetchResult,
    hand_over: HandOver,
) -> None:
    # Stored and committed first; only then marked on the server, one by one.
    if not pending:
        return
    for (uid, _data), raw in zip(pending, store_raw_messages(mailbox, pending), strict=True):
        fetcher.mark_done(uid)
        if raw is None:
            result.duplicates += 1
            continue
        result.stored.append(raw.pk)
        if raw.state == RawMessage.State.NEW:  # not one refused by the database
            hand_over(raw.pk)


def _redact(text: str, mailbox: Mailbox) -> str:
    if mailbox.password:
        text = text.replace(mailbox.password, "********")
    return db_text(text)[:2000]


def backoff(interval: timedelta, failures: int) -> timedelta:
    """How long a mailbox waits after its n-th failure in a row: doubling, at most an hour."""
    base = max(interval, MIN_BACKOFF)
    return min(base * 2 ** min(failures - 1, 20), MAX_BACKOFF)


def _record_failure(mailbox: Mailbox, error: BaseException, now: datetime) -> None:
    failures = mailbox.consecutive_failures + 1
    message = _redact(f"{type(error).__name__}: {error}", mailbox)
    Mailbox.objects.filter(pk=mailbox.pk).update(
        last_fetch_at=now,
        last_error=message,
        consecutive_failures=failures,
        next_fetch_at=now + backoff(mailbox.fetch_interval, failures),
    )
    logger.warning(
        "mail.fetch_failed mailbox=%s failures=%d error=%s", mailbox.pk, failures, message
    )


def fetch_mailbox(mailbox_id: int, *, hand_over: HandOver = lambda _pk: None) -> FetchResult | None:
    """Fetch one mailbox: store, mark, hand over. Errors are recorded, not raised.

    ``hand_over`` gets the id of every stored message to process, as soon as it is
    committed, also when the fetch fails later on (tasks.fetch_mailbox_task enqueues them).

    Safe to run twice, or twice at once: the unique constraints dedupe and a duplicate
    is only marked on the server. Failures set last_error and back off next_fetch_at.
    """
    mailbox = Mailbox.objects.filter(pk=mailbox_id, active=True).first()
    if mailbox is None:
        return None
    now = timezone.now()
    try:
        with open_fetcher(mailbox) as fetcher:
            changed = fetcher.uidvalidity is not None and fetcher.uidvalidity != mailbox.uidvalidity
            if changed and mailbox.uidvalidity is not None:
                _note_uidvalidity_change(mailbox, fetcher.uidvalidity, now)
            if changed:
                Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=fetcher.uidvalidity)
            result = fetch_messages(
                mailbox,
                fetcher,
                uidvalidity_changed=changed and mailbox.uidvalidity is not None,
                hand_over=hand_over,
            )
    except Exception as error:  # one mailbox's failure never reaches Celery or others
        _record_failure(mailbox, error, now)
        return None
    done = {"last_success_at": timezone.now(), "last_error": "", "consecutive_failures": 0}
    if result.capped:
        done["next_fetch_at"] = timezone.now()  # the rest at the next dispatch
    Mailbox.objects.filter(pk=mailbox.pk).update(last_fetch_at=now, **done)
    logger.info(
        "mail.fetched mailbox=%s new=%d already_stored=%d refused=%d",
        mailbox.pk,
        len(result.stored),
        result.duplicates,
        result.refused,
    )
    return result


def _note_uidvalidity_change(mailbox: Mailbox, new: int | None, now: datetime) -> None:
    # Every uid on the server is new to us: mail is re-checked by Message-ID (nothing is
    # duplicated), but the server's folder was rebuilt or replaced and an admin should know.
    logger.warning(
        "mail.uidvalidity_changed mailbox=%s old=%s new=%s", mailbox.pk, mailbox.uidvalidity, new
    )
    note = gettext(
        "%(time)s UTC: the server's UIDVALIDITY changed from %(old)s to %(new)s (the folder "
        "was rebuilt or replaced). Every message was checked again by its Message-ID; look "
        "for missing or repeated mail, then clear this note."
    ) % {"time": f"{now:%Y-%m-%d %H:%M}", "old": mailbox.uidvalidity, "new": new}
    Mailbox.objects.filter(pk=mailbox.pk).update(attention=note, attention_at=now)


def clear_mailbox_attention(mailbox_ids: list[int]) -> int:
    """An admin has looked: clear the mailboxes' needs-attention notes; returns how many."""
    return (
        Mailbox.objects.filter(pk__in=mailbox_ids)
        .exclude(attention="")
        .update(attention="", attention_at=None)
    )


def claim_due_mailboxes(now: datetime | None = None) -> list[int]:
    """Ids of the active mailboxes due for a fetch, each claimed for one fetch interval.

    The claim is a conditional UPDATE on the next_fetch_at we read: a second beat (or a
    second dispatcher run) reading the same row matches nothing and dispatches nothing.
    """
    now = now or timezone.now()
    # Back-pressure: a mailbox whose last run is still being processed waits, so that a
    # flood never queues more than one run (MAIL_FETCH_MAX_PER_RUN) ahead of other
    # mailboxes' mail. Only recent rows count: a stuck one is requeue_stale's business.
    busy = RawMessage.objects.filter(
        mailbox=OuterRef("pk"),
        state=RawMessage.State.NEW,
        received_at__gt=now - STALE_AFTER,
    )
    due = (
        Mailbox.objects.filter(active=True, next_fetch_at__lte=now)
        .exclude(Exists(busy))
        # The provider refused its OAuth grant: nothing to fetch until an admin reconnects.
        .exclude(oauth__failed_at__isnull=False)
        .values_list("pk", "next_fetch_at", "fetch_interval", "listening_at")
    )
    claimed = []
    for pk, next_fetch_at, interval, listening_at in due:
        interval, poll = _poll_plan(interval, listening_at, now)
        updated = Mailbox.objects.filter(pk=pk, next_fetch_at=next_fetch_at).update(
            next_fetch_at=now + interval
        )
        if updated and poll:
            claimed.append(pk)
    return claimed


def _poll_plan(
    interval: timedelta, listening_at: datetime | None, now: datetime
) -> tuple[timedelta, bool]:
    """(when to look again, whether to fetch now): a mailbox held by the IDLE listener is
    polled only as a fallback, and not at all if MAIL_POLL_WHILE_LISTENING is off.

    The listener marks its mailboxes every heartbeat: three missed and polling is back.
    """
    heartbeat = timedelta(seconds=settings.MAIL_IDLE_HEARTBEAT_SECONDS)
    if listening_at is None or listening_at < now - 3 * heartbeat:
        return interval, True
    if not settings.MAIL_POLL_WHILE_LISTENING:
        return interval, False
    return max(interval, timedelta(seconds=settings.MAIL_IDLE_POLL_SECONDS)), True


def stale_new_raw_message_ids(*, older_than: timedelta = STALE_AFTER, now=None):
    """Stored messages still ``new`` long after their fetch: their processing was never queued.

    A worker can die between committing the row and enqueuing its processing; IMAP and
    maildir would list the message again, but a POP3 box that keeps its mail would not.
    One indexed query (the partial index on new rows).
    """
    cutoff = (now or timezone.now()) - older_than
    return list(
        RawMessage.objects.filter(state=RawMessage.State.NEW, received_at__lt=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:1000]
    )
