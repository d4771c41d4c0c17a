"""Many stored messages in one transaction: the set-based form of ``process_raw_message``.

Ingestion costs round trips and ORM work per message, not database time. A batch claims
its raw rows with one SKIP LOCKED query, parses them in Python, answers every lookup
(known Message-IDs, threads, contacts) with one query per kind, and writes tickets,
messages, attachments and activity rows with one INSERT per table
(``tickets.services.intake``). Outcomes, activity rows and domain events are the same as
processing the messages one by one.

Whatever is unusual goes the proven way, one message at a time, after the batch commits:
a bounce (linked to the mail it returns), a header or tag match from a sender who is not
a participant (a linked ticket) or that failed DMARC (held for review), a reply to another
mail of the same batch (its ticket does not exist yet), and a message that fails to parse.
If the batch itself fails, it is rolled back whole and every message is processed alone,
so one bad message only ever fails itself.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import connections, router, transaction
from django.utils import timezone

from mailboxes import loops
from mailboxes.loops import id_forms
from mailboxes.models import RawMessage
from mailboxes.outbound import AutoReplyRequest, queue_auto_replies
from mailboxes.parsing import ParsedMail, parse_message
from mailboxes.processing import (
    CLAIMABLE,
    SAVED_FIELDS,
    attachment_uploads,
    finish,
    our_addresses,
    process_raw_message,
    refuse_if_too_large,
)
from mailboxes.thread_matching import decide, find_thread, thread_lookup
from people.language import detect_language
from people.services import find_or_create_contacts, remember_languages
from tickets.services.intake import CustomerMail, receive_customer_messages
from tickets.services.transactions import all_or_nothing

logger = logging.getLogger(__name__)

State = RawMessage.State
Reason = RawMessage.Reason
# Big enough that the per-batch queries cost little per message, small enough that a
# batch's transaction stays short and its attachments fit in memory.
BATCH_SIZE = 50
# A batch holds its parsed mail until the INSERTs; a big message goes alone (and streams).
BATCH_MAX_MESSAGE_BYTES = 2**20


@dataclass
class _Item:
    raw: RawMessage
    parsed: ParsedMail
    message_id: str
    notes: list[str]
    mail: CustomerMail | None = None
    skipped: list[str] = field(default_factory=list)
    language: str = ""  # detected from the text; "" when too short to tell


def process_raw_messages(raw_message_ids: Sequence[int]) -> None:
    """Process stored messages together; safe to re-run and never raises for mail.

    Rows that are not new or failed, or that another worker holds, are skipped. Every
    message ends as processed, ignored, refused or failed exactly as process_raw_message
    would leave it.
    """
    ids = sorted(set(raw_message_ids))
    waits: dict[int, list[int]] = {}
    try:
        with all_or_nothing():
            raws = list(
                RawMessage.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("mailbox__pool")
                .filter(pk__in=ids, state__in=CLAIMABLE)
                .order_by("pk")
            )
            alone = _process(raws, waits)
    except Exception:
        # Rolled back whole: each message gets its own try, and its own failure record.
        logger.warning("mail.batch_failed raws=%d: one by one", len(ids), exc_info=True)
        alone, waits = ids, {}
    for raw_message_id in alone:
        if raw_message_id in waits:
            _wait_for(waits[raw_message_id])
        process_raw_message(raw_message_id)


def _wait_for(raw_message_ids: list[int]) -> None:
    """Return once these stored messages are processed (or failed), by us or another worker.

    Nobody has claimed one yet: we process it ourselves, so an original always goes before
    its reply. Another worker holds one: the locking read waits for its commit.
    """
    for raw_message_id in raw_message_ids:
        process_raw_message(raw_message_id)  # skips a row another worker holds
    with transaction.atomic():
        list(RawMessage.objects.select_for_update().filter(pk__in=raw_message_ids).values("pk"))


def _process(raws: list[RawMessage], waits: dict[int, list[int]]) -> list[int]:
    """Process what a batch can; return the ids to process one by one after commit.

    ``waits`` gets, for a reply whose original another worker is processing right now,
    that original's raw id: the reply is processed alone once that worker has committed.
    """
    alone: list[int] = []
    items: list[_Item] = []
    done: list[RawMessage] = []
    for raw in raws:
        raw.attempts += 1
        if refuse_if_too_large(raw):
            done.append(raw)
            continue
        if raw.size > BATCH_MAX_MESSAGE_BYTES:
            alone.append(raw.pk)
            continue
        try:
            with raw.file.open("rb") as stored:
                parsed = parse_message(stored.read())
        except Exception:
            alone.append(raw.pk)  # recorded as failed by the one-by-one path
            continue
        raw.subject = parsed.subject[:255]
        raw.sender = (parsed.from_address or "")[:255]
        message_id = parsed.message_id or raw.message_id
        items.append(_Item(raw, parsed, message_id, parsed.defects[:20]))
    known, mailbox_addresses = loops.known_message_ids_and_mailbox_addresses(
        item.message_id for item in items
    )
    own_addresses = our_addresses(mailbox_addresses)
    customer: list[_Item] = []
    batch_ids: set[str] = set()
    for item in items:
        outcome = _screen(item, known, own_addresses, batch_ids)
        if outcome == "alone":
            alone.append(item.raw.pk)
        elif outcome == "customer":
            customer.append(item)
        else:
            done.append(item.raw)
        batch_ids.update(id_forms(item.message_id))
    customer = _keep_independent(customer, batch_ids, alone)
    _receive(customer, alone, waits)
    replies = []
    for item in customer:
        if item.mail is None:
            continue
        if item.mail.is_new and item.mail.ticket is not None and item.mail.message is not None:
            may = loops.may_auto_reply(item.parsed, own_addresses=own_addresses)
            replies.append(
                AutoReplyRequest(
                    ticket=item.mail.ticket,
                    mailbox=item.raw.mailbox,
                    to_address=item.parsed.from_address or "",
                    may_auto_reply=may,
                    first_message=item.mail.message,
                )
            )
        item.raw.ticket, item.raw.ticket_message = item.mail.ticket, item.mail.message
        finish(item.raw, State.PROCESSED, Reason.NONE, [*item.skipped, *item.notes])
        done.append(item.raw)
    queue_auto_replies(replies, mailbox_addresses=mailbox_addresses)
    now = timezone.now()
    for raw in done:
        raw.processed_at = now
    _save_outcomes(done)
    return sorted(alone)


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


def _screen(item: _Item, known, own_addresses: set[str], batch_ids: set[str]) -> str:
    """ "ignored" (with its reason set), "alone", or "customer" mail for a ticket."""
    parsed, raw = item.parsed, item.raw
    kinds = loops.known_kinds(known, item.message_id)
    reason = loops.classify_automatic(
        parsed,
        own_addresses=own_addresses,
        own_message_ids_lookup=lambda _message_id: "own" in kinds,
        mailbox=raw.mailbox,
    )
    if reason == Reason.BOUNCE:
        return "alone"
    if reason:
        finish(raw, State.IGNORED, reason, item.notes)
        return "ignored"
    if parsed.from_address is None:
        finish(raw, State.IGNORED, Reason.NO_SENDER, [parsed.sender_problem, *item.notes])
        return "ignored"
    if raw.reused_message_id:
        return "alone"  # not a duplicate whatever "known" says; rare enough for one by one
    if "inbound" in kinds:
        finish(raw, State.IGNORED, Reason.DUPLICATE, item.notes)
        return "ignored"
    if batch_ids.intersection(id_forms(item.message_id)):
        return "alone"  # the same mail twice in one batch: the second is a duplicate
    return "customer"


def _keep_independent(items: list[_Item], batch_ids: set[str], alone: list[int]) -> list[_Item]:
    # A reply to a mail of this very batch needs that mail's ticket, made in this batch.
    kept = []
    for item in items:
        refs = {form for mid in item.parsed.thread_ids for form in id_forms(mid)}
        own = set(id_forms(item.message_id))
        if refs & (batch_ids - own):
            alone.append(item.raw.pk)
        else:
            kept.append(item)
    return kept


def _unprocessed_references(items: list[_Item]) -> dict[str, list[int]]:
    """Message-ID → raw ids of stored messages these mails refer to that are still new.

    Looked up in the mails' own mailboxes, by the unique (mailbox, Message-ID) index.
    """
    forms = {form for item in items for mid in item.parsed.thread_ids for form in id_forms(mid)}
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


def _receive(items: list[_Item], alone: list[int], waits: dict[int, list[int]]) -> None:
    """Thread, find the senders, and record every message that needs no special path."""
    if not items:
        return
    # Read before the threads: an original another worker commits in between is then seen
    # by the thread lookup, and one still uncommitted is here, so the reply waits for it
    # rather than opening a ticket of its own.
    unprocessed = _unprocessed_references(items)
    lookup = thread_lookup(item.parsed for item in items)
    matches = [find_thread(item.parsed, item.raw.mailbox, lookup=lookup) for item in items]
    for item, match in zip(items, matches, strict=True):
        if match.via == "header" or not unprocessed:
            continue
        refs = {form for mid in item.parsed.thread_ids for form in id_forms(mid)}
        pending = sorted({pk for form in refs for pk in unprocessed.get(form, ())})
        if pending:
            waits[item.raw.pk] = pending
    senders: dict[str, str] = {}
    languages: dict[str, str] = {}
    for item in items:
        if item.raw.pk not in waits:
            # The first mail's display name and language make a new contact, as one by one.
            item.language = detect_language(f"{item.parsed.subject}\n{item.parsed.text}")
            senders.setdefault(item.parsed.from_address or "", item.parsed.from_name)
            languages.setdefault(item.parsed.from_address or "", item.language)
    contacts = find_or_create_contacts(senders, languages=languages)
    mails = []
    detected = []
    for item, match in zip(items, matches, strict=True):
        if item.raw.pk in waits:
            alone.append(item.raw.pk)
            continue
        parsed = item.parsed
        contact = contacts[(parsed.from_address or "").strip().lower()]
        ticket = match.ticket
        if decide(match, parsed, item.raw.mailbox, contact=contact) in ("outsider", "hold"):
            alone.append(item.raw.pk)  # a linked ticket, or held for review: the proven way
            continue
        files, item.skipped = attachment_uploads(parsed)
        item.mail = CustomerMail(
            contact=contact,
            body_text=parsed.text,
            body_html=parsed.html,
            files=files,
            message_id=item.message_id[:255],
            ticket=ticket,
            subject=parsed.subject,
            pool=item.raw.mailbox.pool,
            routing_text=f"{parsed.subject}\n{parsed.text}",
        )
        detected.append((contact, item.language))
        item.mail.language = item.language or item.raw.mailbox.language
        mails.append(item.mail)
    remember_languages(detected)
    receive_customer_messages(mails)
