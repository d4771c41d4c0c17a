"""Stored RawMessages become tickets, replies on them, or ignored records with a reason.

One path, whatever the number of messages (one is a list of one): claim the rows (SKIP
LOCKED: two workers never process the same message, a task delivered twice does nothing),
parse, screen (size, loop protection, bounces, no sender, duplicates), thread, find the
senders, decide (join, new, a linked ticket for a non-participant, or a DMARC hold), then
record every message with one INSERT per table (``tickets.services.intake``) and queue the
auto-replies, all in one transaction. Ingestion costs round trips and ORM work per message,
not database time: every lookup is one query per kind for the whole batch.

A reply to a mail of the same batch is recorded in a later wave of the same transaction,
once its original's ticket exists; a reply whose original another worker holds waits for
that worker's commit. If a batch fails it is rolled back whole and each message is run
again as a batch of one, so one bad message only ever fails itself, with its error.
"""

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db import connections, router, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from mailboxes import loops, refusals
from mailboxes import signals as mail_signals
from mailboxes.loops import id_forms
from mailboxes.models import RawMessage
from mailboxes.outbound import AutoReplyRequest, queue_auto_replies
from mailboxes.parsing import LARGE_MESSAGE, ParsedMail, parse_message, parse_message_file
from mailboxes.text import db_text
from mailboxes.thread_matching import (
    SUBJECT_TAG,
    ThreadMatch,
    decide,
    find_thread,
    participants_of,
    thread_lookup,
)
from people.language import detect_language
from people.services import find_or_create_contacts, remember_languages
from tickets.models import ActivityLog, Ticket
from tickets.services.audit import log_activity
from tickets.services.intake import CustomerMail, receive_customer_messages

logger = logging.getLogger(__name__)

State = RawMessage.State
Reason = RawMessage.Reason
HELD_DMARC_FAIL = gettext_noop(
    "A mail claiming to be from this address failed DMARC: it is held until an agent "
    "releases or rejects it."
)
REUSED_MESSAGE_ID = gettext_noop(
    "This mail reuses the Message-ID of an earlier, different mail: kept as a mail of its own."
)
REUSED_MESSAGE_ID_NOTE = "reused Message-ID"
CLAIMABLE = (State.NEW, State.FAILED)
# Big enough that the per-batch work (about 190 ms of queries, jobs, commits, facts and
# notification pipelines, whatever the batch's size) costs little per message, small
# enough that a batch's transaction stays under a second. 50 ran a flood at 405-433
# msg/s, 100 at 480-520, 200 at 527 (bench/README.md, 2026-12-04); with routing and a
# notification rule, 100 ran at 394, 200 at 533-535 and 300 at 574-591 (2026-12-04,
# night). A fetch run stores at most MAIL_FETCH_MAX_PER_RUN (200) mails, so batches this
# big are a backlog's. Big messages stream their large parts to temporary files.
BATCH_SIZE = 300
SAVED_FIELDS = [
    "state",
    "reason",
    "error",
    "subject",
    "sender",
    "ticket",
    "ticket_message",
    "processed_at",
    "attempts",
]


@dataclass
class _Item:
    raw: RawMessage
    parsed: ParsedMail
    message_id: str
    notes: list[str]
    refs: set[str] = field(default_factory=set)  # stored forms of the ids it refers to
    mail: CustomerMail | None = None
    skipped: list[str] = field(default_factory=list)
    language: str = ""  # detected from the text; "" when too short to tell


def process_raw_messages(raw_message_ids: Iterable[int]) -> list[RawMessage]:
    """Turn stored messages into tickets or replies; safe to re-run, never raises for mail.

    Rows that are not new or failed, or that another worker holds, are skipped. Sets state,
    reason, error, ticket, ticket_message, processed_at and attempts on each row and returns
    the rows, in id order, as they are now.
    """
    ids = sorted(set(raw_message_ids))
    _claimed, raws = _claim_and_process(
        lambda: _claimable().filter(pk__in=ids, state__in=CLAIMABLE).order_by("pk"), ids
    )
    ended = {raw.pk: raw for raw in raws}
    missing = [pk for pk in ids if pk not in ended]  # skipped, waited for, or retried
    if missing:
        ended.update(RawMessage.objects.in_bulk(missing))
    return [ended[pk] for pk in ids if pk in ended]


def next_batch(mailbox_id: int, size: int = BATCH_SIZE) -> QuerySet[RawMessage]:
    """The oldest new stored mail of this mailbox that no other worker holds, to be claimed.

    Evaluated inside a transaction it locks the rows (SKIP LOCKED: two chains never take the
    same mail, and neither waits for the other's batch).
    """
    return _claimable().filter(mailbox_id=mailbox_id, state=State.NEW).order_by("pk")[:size]


def process_next_batch(mailbox_id: int) -> int:
    """Claim and process this mailbox's next batch (``next_batch``); how many it claimed.

    Several of these run at once on one mailbox's backlog (``MAIL_PROCESS_CHAINS``): a reply
    whose original another batch holds waits for that batch's commit, as for any batch.
    """
    claimed, _raws = _claim_and_process(lambda: next_batch(mailbox_id), [])
    return len(claimed)


def _claimable() -> QuerySet[RawMessage]:
    return RawMessage.objects.select_for_update(skip_locked=True, of=("self",)).select_related(
        "mailbox__pool"
    )


def _claim_and_process(
    claim: Callable[[], Iterable[RawMessage]], ids: list[int]
) -> tuple[list[int], list[RawMessage]]:
    """Claim rows with ``claim()`` and process them in one transaction; the claimed ids, and
    the rows ended by it (without those that waited for an original and were run again).

    ``ids``: what the claim asks for, retried one by one if the claim itself fails.
    """
    waits: dict[int, list[int]] = {}
    claimed = ids
    try:
        # One transaction for the batch, rolled back whole on any error; never inside another.
        with transaction.atomic(durable=True):
            raws = list(claim())
            claimed = [raw.pk for raw in raws]
            _process(raws, waits)
    except Exception as exc:
        if len(claimed) > 1:
            # Each message gets its own try, and its own failure record.
            logger.warning("mail.batch_failed raws=%d: each alone", len(claimed), exc_info=True)
            for raw_message_id in claimed:
                process_raw_messages([raw_message_id])
        else:
            _record_failure(claimed, exc)
        raws = []
    for raw_message_id, pending in sorted(waits.items()):
        _wait_for(pending)
        process_raw_messages([raw_message_id])
    return claimed, [raw for raw in raws if raw.pk not in waits]


def _record_failure(ids: list[int], exc: Exception) -> None:
    # Everything the attempt wrote is rolled back; only the failure is recorded, and only
    # while nobody else has processed the row in the meantime.
    logger.exception("mail.process_failed raw=%s", ids)
    RawMessage.objects.filter(pk__in=ids, state__in=CLAIMABLE).update(
        state=State.FAILED,
        reason=Reason.NONE,
        error=db_text(f"{type(exc).__name__}: {exc}")[:5000],
        ticket=None,
        ticket_message=None,
        processed_at=timezone.now(),
        attempts=F("attempts") + 1,
    )


def _wait_for(raw_message_ids: list[int]) -> None:
    """Return once these stored messages are processed (or failed), by us or another worker.

    Nobody has claimed one yet: we process it ourselves, so an original always goes before
    its reply. Another worker holds one: the locking read waits for its commit.
    """
    process_raw_messages(raw_message_ids)  # skips rows another worker holds
    with transaction.atomic():
        list(RawMessage.objects.select_for_update().filter(pk__in=raw_message_ids).values("pk"))


def process_released(raw: RawMessage) -> None:
    """Thread a held mail as processing would have without the hold (row locked by caller).

    Loop protection, duplicates and the participant check run again: only the DMARC hold
    is lifted. Sets the outcome on ``raw`` and saves it.
    """
    _process([raw], None, released=True)


def _process(
    raws: list[RawMessage], waits: dict[int, list[int]] | None, *, released: bool = False
) -> None:
    """Parse, screen and record ``raws`` (claimed by the caller) and save their outcomes.

    ``waits`` gets, for a reply whose original another worker is processing right now,
    that original's raw id: the reply is left new and processed once that worker commits.
    """
    items: list[_Item] = []
    done: list[RawMessage] = []
    try:
        for raw in raws:
            raw.attempts += 1
            if refuse_if_too_large(raw):
                done.append(raw)
                continue
            items.append(_parse(raw))
        unprocessed = _unprocessed_references(items) if waits is not None else {}
        for wave in _waves(items):
            done += _process_wave(wave, unprocessed, waits, released=released)
    finally:
        for item in items:
            item.parsed.close()
    now = timezone.now()
    for raw in done:
        raw.processed_at = now
    _save_outcomes(done)


def _parse(raw: RawMessage) -> _Item:
    with raw.file.open("rb") as stored:
        # A big message is streamed: its large parts go to temporary files, not memory.
        parsed = (
            parse_message_file(stored)
            if raw.size >= LARGE_MESSAGE
            else parse_message(stored.read())
        )
    raw.subject = parsed.subject[:255]
    raw.sender = (parsed.from_address or "")[:255]
    refs = {form for mid in parsed.thread_ids for form in id_forms(mid)}
    # Kept on the row for the admin: what the parser had to repair, cut or skip.
    return _Item(raw, parsed, parsed.message_id or raw.message_id, parsed.defects[:20], refs)


def _waves(items: list[_Item]) -> list[list[_Item]]:
    """Items in waves: a reply to (or a second copy of) a mail of the batch goes after it.

    Every wave is screened and recorded before the next, in the same transaction, so the
    next one's lookups see the tickets and Message-IDs it wrote.
    """
    waves, remaining = [], items
    while remaining:
        ready, later, seen = [], [], set[str]()
        others = {form for item in remaining for form in id_forms(item.message_id)}
        for item in remaining:
            own = set(id_forms(item.message_id))
            # A reply to another mail still to record, or the same mail as an earlier one.
            if (item.refs - own) & others or own & seen:
                later.append(item)
            else:
                ready.append(item)
            seen |= own
        if not ready:  # mails that refer to each other: the first goes first
            ready, later = later[:1], later[1:]
        waves.append(ready)
        remaining = later
    return waves


def _process_wave(
    items: list[_Item],
    unprocessed: dict[str, list[int]],
    waits: dict[int, list[int]] | None,
    *,
    released: bool,
) -> list[RawMessage]:
    """Screen, thread and record one wave; return the rows it decided."""
    known, mailbox_addresses = loops.known_message_ids_and_mailbox_addresses(
        item.message_id for item in items
    )
    own_addresses = loops.our_addresses(mailbox_addresses)
    done = [item.raw for item in items]
    customer = _screen(items, known, own_addresses)
    lookup = thread_lookup(item.parsed for item in customer)
    matches = {
        item.raw.pk: find_thread(item.parsed, item.raw.mailbox, lookup=lookup) for item in customer
    }
    if waits is not None and unprocessed:
        for item in list(customer):
            pending = sorted({pk for form in item.refs for pk in unprocessed.get(form, ())})
            if pending and matches[item.raw.pk].via != "header":
                waits[item.raw.pk] = pending  # left new: processed once the original is
                customer.remove(item)
                done.remove(item.raw)
                # A reply to this one in a later wave of the batch waits for it in turn:
                # it finds no thread to join until this one is recorded.
                for form in id_forms(item.message_id):
                    unprocessed.setdefault(form, []).append(item.raw.pk)
    senders: dict[str, str] = {}
    languages: dict[str, str] = {}
    for item in customer:
        # Detected before the contacts are found: a new contact is made with its language
        # (the first mail's display name and language, as for one mail).
        item.language = detect_language(f"{item.parsed.subject}\n{item.parsed.text}")
        senders.setdefault(item.parsed.from_address or "", item.parsed.from_name)
        languages.setdefault(item.parsed.from_address or "", item.language)
    contacts = find_or_create_contacts(senders, languages=languages) if senders else {}
    remember_languages(
        [(contacts[(i.parsed.from_address or "").strip().lower()], i.language) for i in customer]
    )
    # One query for who takes part in every ticket these mails thread onto.
    # The requester's own replies (most of them) need no look.
    participants = participants_of(
        match.ticket
        for item, match in ((item, matches[item.raw.pk]) for item in customer)
        if match.ticket is not None
        and not match.trusted
        and contacts[(item.parsed.from_address or "").strip().lower()].pk
        != match.ticket.requester_id
    )
    mails = []
    for item in customer:
        contact = contacts[(item.parsed.from_address or "").strip().lower()]
        match = matches[item.raw.pk]
        item.mail = _customer_mail(item, match, contact, participants, released=released)
        if item.mail is not None:
            mails.append(item.mail)
    receive_customer_messages(mails)
    replies = []
    for item in customer:
        if item.mail is None:
            continue  # held, or claimed by a listener
        ticket, message = item.mail.ticket, item.mail.message
        assert ticket is not None and message is not None  # noqa: S101 (recorded above)
        if item.mail.is_new:
            may = loops.may_auto_reply(item.parsed, own_addresses=own_addresses)
            replies.append(
                AutoReplyRequest(
                    ticket=ticket,
                    mailbox=item.raw.mailbox,
                    to_address=item.parsed.from_address or "",
                    may_auto_reply=may,
                    first_message=message,
                )
            )
        if item.raw.reused_message_id:
            log_activity(
                ticket, actor=None, action=ActivityLog.Action.NOTE, detail=REUSED_MESSAGE_ID
            )
        item.raw.ticket, item.raw.ticket_message = ticket, message
        finish(item.raw, State.PROCESSED, Reason.NONE, [*item.skipped, *item.notes])
    queue_auto_replies(replies, mailbox_addresses=mailbox_addresses)
    return done


def _screen(items: list[_Item], known: dict[str, set[str]], own_addresses: set[str]) -> list:
    """The customer mail among ``items``; the others' outcomes (ignored, with the reason) are
    set, and the bounces linked to the tickets whose mail they return (all at once)."""
    customer, bounces = [], []
    for item in items:
        parsed, raw = item.parsed, item.raw
        kinds = loops.known_kinds(known, item.message_id)
        reason = loops.classify_automatic(
            parsed,
            own_addresses=own_addresses,
            own_message_ids_lookup=lambda _message_id: "own" in kinds,  # noqa: B023 (called here)
            mailbox=raw.mailbox,
        )
        if reason == Reason.BOUNCE:
            bounces.append(item)
        elif reason:
            finish(raw, State.IGNORED, reason, item.notes)
        elif parsed.from_address is None:
            finish(raw, State.IGNORED, Reason.NO_SENDER, [parsed.sender_problem, *item.notes])
        elif raw.reused_message_id:
            # A different mail under a Message-ID we have: not a duplicate, and said so.
            item.notes = [REUSED_MESSAGE_ID_NOTE, *item.notes]
            customer.append(item)
        elif "inbound" in kinds:
            finish(raw, State.IGNORED, Reason.DUPLICATE, item.notes)
        else:
            customer.append(item)
    reasons = loops.link_bounces([(item.raw, item.parsed) for item in bounces])
    for item, reason in zip(bounces, reasons, strict=True):
        finish(item.raw, State.IGNORED, reason, item.notes)
    return customer


def _customer_mail(item: _Item, match: ThreadMatch, contact, participants, *, released: bool):
    """The CustomerMail to record for ``item``, or None when it is held or claimed."""
    parsed, raw = item.parsed, item.raw
    decision = decide(
        match,
        parsed,
        raw.mailbox,
        contact=contact,
        participants=participants,
        check_dmarc=not released,
    )
    if decision == "hold":
        _hold(raw, match.ticket, parsed, item.notes)
        return None
    files, item.skipped = attachment_uploads(parsed)
    message_id = item.message_id[:255]
    subject, link_to = parsed.subject, None
    if decision == "outsider" and match.ticket is not None:
        claimed = _claimed_by_listener(match, parsed, contact, files, message_id)
        if claimed is not None:
            raw.ticket, raw.ticket_message = claimed.ticket, claimed
            finish(raw, State.PROCESSED, Reason.NONE, [*item.skipped, *item.notes])
            return None
        # Not a participant: a new ticket linked to the one it refers to, without the
        # other ticket's tag in its subject (no hijacking).
        subject, link_to = SUBJECT_TAG.sub("", subject).strip(), match.ticket
    return CustomerMail(
        contact=contact,
        body_text=parsed.text,
        body_html=parsed.html,
        files=files,
        message_id=message_id,
        ticket=match.ticket if decision == "join" else None,
        link_to=link_to,
        subject=subject,
        pool=raw.mailbox.pool,
        routing_text=f"{parsed.subject}\n{parsed.text}",
        language=item.language or raw.mailbox.language,  # what routing reads keywords in
        told_language=item.language,
    )


def _hold(raw: RawMessage, ticket: Ticket | None, parsed: ParsedMail, notes: list[str]) -> None:
    """Keep the mail out of the thread until an agent of the ticket's pool decides."""
    raw.ticket = ticket
    finish(raw, State.QUARANTINED, Reason.DMARC_FAIL, notes)
    if ticket is not None:
        log_activity(
            ticket,
            actor=None,
            action=ActivityLog.Action.MAIL_HELD,
            after=(parsed.from_address or "")[:255],
            detail=HELD_DMARC_FAIL,
        )


def _claimed_by_listener(match: ThreadMatch, parsed: ParsedMail, contact, files, message_id):
    """The Message a listener stored for a threaded mail from a non-participant, or None.

    Only a sender the ticket is waiting for (a consulted department) is taken; anyone
    else still gets a new linked ticket (no hijacking).
    """
    responses = mail_signals.reply_from_outsider.send(
        sender=RawMessage,
        ticket=match.ticket,
        contact=contact,
        from_address=parsed.from_address or "",
        body_text=parsed.text,
        body_html=parsed.html,
        files=files,
        message_id=message_id,
    )
    return next((message for _receiver, message in responses if message is not None), None)


def _unprocessed_references(items: list[_Item]) -> dict[str, list[int]]:
    """Message-ID → raw ids of stored messages these mails refer to that are still new.

    Looked up in the mails' own mailboxes, by the unique (mailbox, Message-ID) index. Read
    before the threads: an original another worker commits in between is then seen by the
    thread lookup, and one still uncommitted is here, so the reply waits for it rather
    than opening a ticket of its own.
    """
    forms = {form for item in items for form in item.refs}
    if not forms:
        return {}
    mine = {item.raw.pk for item in items}
    rows = RawMessage.objects.filter(
        mailbox_id__in={item.raw.mailbox_id for item in items}, message_id__in=forms
    ).values_list("message_id", "pk", "state")
    found: dict[str, list[int]] = {}
    for message_id, pk, state in rows:
        if state == State.NEW and pk not in mine:
            found.setdefault(message_id, []).append(pk)
    return found


def _save_outcomes(raws: list[RawMessage]) -> None:
    """Each row's outcome with one UPDATE statement run for many rows (executemany).

    bulk_update would build a CASE per field and row: with nine fields that costs more
    Python than the rest of the batch's statements together.
    """
    if not raws:
        return
    connection = connections[router.db_for_write(RawMessage)]
    quote = connection.ops.quote_name
    opts = RawMessage._meta
    fields = [field for field in opts.concrete_fields if field.name in SAVED_FIELDS]
    assignments = ", ".join(f"{quote(str(field.column))} = %s" for field in fields)
    sql = (
        f"UPDATE {quote(opts.db_table)} SET {assignments} "  # noqa: S608 (quoted names only)
        f"WHERE {quote(str(opts.pk.column))} = %s"
    )
    rows = [
        [field.get_db_prep_save(getattr(raw, field.attname), connection) for field in fields]
        + [raw.pk]
        for raw in raws
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def refuse_if_too_large(raw: RawMessage) -> bool:
    """Refuse a stored message over its mailbox's limit (kept, reason shown, sender told)."""
    if not refusals.is_too_large(raw.mailbox, raw.size):
        return False
    finish(raw, State.REFUSED, Reason.TOO_LARGE, [refusals.refusal_reason(raw.mailbox, raw.size)])
    refusals.queue_refusal_notice(raw.mailbox, headers=refusals.header_block(raw), size=raw.size)
    return True


def finish(raw: RawMessage, state: str, reason: str, notes: Sequence[str] = ()) -> None:
    """Set the outcome on the row (not saved): state, reason, and the notes as its error."""
    raw.state, raw.reason = state, reason
    raw.error = db_text("; ".join(note for note in notes if note))[:5000]


def attachment_uploads(parsed: ParsedMail) -> tuple[list[File], list[str]]:
    """Attachments as uploads for the tickets services; oversized ones are left in the raw mail."""
    files, skipped = [], []
    for attachment in parsed.attachments:
        if attachment.size > settings.TICKET_ATTACHMENT_MAX_BYTES:
            skipped.append(f"attachment {attachment.filename!r} too large: kept in the raw mail")
            continue
        upload: File
        if attachment.spool is not None:
            # Streamed from its temporary file into storage, never read whole.
            upload = File(attachment.spool, name=attachment.filename)
            upload.size = attachment.size
        else:
            upload = ContentFile(attachment.content, name=attachment.filename)
        upload.content_type = attachment.content_type  # type: ignore[attr-defined]
        # Read by _store_files once Attachment has content_id/is_inline (cid: images).
        upload.content_id = attachment.content_id  # type: ignore[attr-defined]
        upload.is_inline = attachment.is_inline  # type: ignore[attr-defined]
        files.append(upload)
    return files, skipped
