"""A stored RawMessage becomes a ticket, a reply on one, or an ignored record with a reason.

parse -> loop protection -> threading -> create ticket or add message -> route -> auto-reply,
all in one transaction: a failure leaves the raw message ``failed`` with the error and
nothing half-made. The raw row is claimed under a row lock, so two workers never process
the same message and a task delivered twice does nothing the second time.
"""

import logging
from collections.abc import Sequence
from email.utils import parseaddr

from django.conf import settings
from django.core.files.base import ContentFile, File
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_noop

from mailboxes import loops, refusals
from mailboxes import signals as mail_signals
from mailboxes.models import Mailbox, RawMessage
from mailboxes.outbound import queue_auto_reply
from mailboxes.parsing import LARGE_MESSAGE, ParsedMail, parse_message, parse_message_file
from mailboxes.text import db_text
from mailboxes.thread_matching import SUBJECT_TAG, ThreadMatch, decide, find_thread
from people.language import detect_language
from people.services import find_or_create_contact, remember_languages
from tickets.models import ActivityLog, Ticket
from tickets.services import add_customer_message, create_ticket, link_tickets, route_ticket
from tickets.services.audit import log_activity
from tickets.services.transactions import all_or_nothing
from tickets.states import Channel

logger = logging.getLogger(__name__)

State = RawMessage.State
Reason = RawMessage.Reason
LINKED_NOT_PARTICIPANT = gettext_noop(
    "Mail from a sender who is not a participant referred to this ticket."
)
HELD_DMARC_FAIL = gettext_noop(
    "A mail claiming to be from this address failed DMARC: it is held until an agent "
    "releases or rejects it."
)
REUSED_MESSAGE_ID = gettext_noop(
    "This mail reuses the Message-ID of an earlier, different mail: kept as a mail of its own."
)
REUSED_MESSAGE_ID_NOTE = "reused Message-ID"
CLAIMABLE = (State.NEW, State.FAILED)
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


def process_raw_message(raw_message_id: int) -> RawMessage:
    """Turn one stored message into a ticket or reply; safe to re-run and never raises for mail.

    Skips rows that are not new or failed. Sets state, reason, error, ticket,
    ticket_message, processed_at and attempts on the RawMessage and returns it.
    """
    try:
        # One transaction, rolled back whole on any error: the services inside skip their
        # savepoints and the activity rows go in with one INSERT (tickets.services.transactions).
        with all_or_nothing():
            # SKIP LOCKED: a second worker on the same row returns at once and does nothing.
            raw = (
                RawMessage.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("mailbox__pool")
                .filter(pk=raw_message_id, state__in=CLAIMABLE)
                .first()
            )
            if raw is None:
                return RawMessage.objects.get(pk=raw_message_id)
            raw.attempts += 1
            _process(raw)
            raw.processed_at = timezone.now()
            raw.save(update_fields=SAVED_FIELDS)
            return raw
    except Exception as exc:
        # Everything the attempt wrote is rolled back; only the failure is recorded, and
        # only while nobody else has processed the row in the meantime.
        logger.exception("mail.process_failed raw=%s", raw_message_id)
        RawMessage.objects.filter(pk=raw_message_id, state__in=CLAIMABLE).update(
            state=State.FAILED,
            reason=Reason.NONE,
            error=db_text(f"{type(exc).__name__}: {exc}")[:5000],
            ticket=None,
            ticket_message=None,
            processed_at=timezone.now(),
            attempts=F("attempts") + 1,
        )
        return RawMessage.objects.get(pk=raw_message_id)


def _process(raw: RawMessage, *, released: bool = False) -> None:
    if refuse_if_too_large(raw):
        return
    with raw.file.open("rb") as stored:
        # A big message is streamed: its large parts go to temporary files, not memory.
        parsed = (
            parse_message_file(stored)
            if raw.size >= LARGE_MESSAGE
            else parse_message(stored.read())
        )
    try:
        _process_parsed(raw, parsed, released=released)
    finally:
        parsed.close()


def _process_parsed(raw: RawMessage, parsed: ParsedMail, *, released: bool = False) -> None:
    raw.subject = parsed.subject[:255]
    raw.sender = (parsed.from_address or "")[:255]
    # Kept on the row for the admin: what the parser had to repair, cut or skip.
    notes = parsed.defects[:20]
    message_id = parsed.message_id or raw.message_id
    # One query answers "ours?" and "duplicate?" and lists the mailboxes' own addresses.
    known, mailbox_addresses = loops.known_message_id_and_mailbox_addresses(message_id)
    own_addresses = our_addresses(mailbox_addresses)
    reason = loops.classify_automatic(
        parsed,
        own_addresses=own_addresses,
        own_message_ids_lookup=lambda _message_id: "own" in known,
        mailbox=raw.mailbox,
    )
    if reason == Reason.BOUNCE:
        reason = loops.link_bounce(raw, parsed)
    if reason:
        finish(raw, State.IGNORED, reason, notes)
        return
    if parsed.from_address is None:
        finish(raw, State.IGNORED, Reason.NO_SENDER, [parsed.sender_problem, *notes])
        return
    if raw.reused_message_id:
        # A different mail under a Message-ID we have: not a duplicate, and said so.
        notes = [REUSED_MESSAGE_ID_NOTE, *notes]
    elif "inbound" in known:
        finish(raw, State.IGNORED, Reason.DUPLICATE, notes)
        return
    match = find_thread(parsed, raw.mailbox)
    # Detected before the contact is found: a new contact is made with its language.
    detected = detect_language(f"{parsed.subject}\n{parsed.text}")
    contact = find_or_create_contact(
        email=parsed.from_address, name=parsed.from_name, language=detected
    )
    remember_languages([(contact, detected)])
    language = detected or raw.mailbox.language  # what routing reads keywords in
    decision = decide(match, parsed, raw.mailbox, contact=contact, check_dmarc=not released)
    if decision == "hold":
        _hold(raw, match.ticket, parsed, notes)
        return
    files, skipped = attachment_uploads(parsed)
    ticket: Ticket
    if decision == "join" and match.ticket is not None:
        ticket, is_new = match.ticket, False
    else:
        claimed = _claimed_by_listener(match, parsed, contact, files, message_id)
        if claimed is not None:
            raw.ticket, raw.ticket_message = claimed.ticket, claimed
            finish(raw, State.PROCESSED, Reason.NONE, [*skipped, *notes])
            return
        ticket, is_new = _new_ticket(raw.mailbox, parsed, contact, match), True
    message = add_customer_message(
        ticket,
        contact=contact,
        body_text=parsed.text,
        body_html=parsed.html,
        files=files,
        message_id=message_id[:255],
    )
    if is_new:
        _route(ticket, parsed, language=language)
        queue_auto_reply_for(ticket, raw.mailbox, parsed, own_addresses)
    if raw.reused_message_id:
        log_activity(ticket, actor=None, action=ActivityLog.Action.NOTE, detail=REUSED_MESSAGE_ID)
    raw.ticket, raw.ticket_message = ticket, message
    finish(raw, State.PROCESSED, Reason.NONE, [*skipped, *notes])


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


def process_released(raw: RawMessage) -> None:
    """Thread a held mail as processing would have without the hold (row locked by caller).

    Loop protection, duplicates and the participant check run again: only the DMARC hold
    is lifted. Sets the outcome on ``raw`` and saves it.
    """
    raw.attempts += 1
    _process(raw, released=True)
    raw.processed_at = timezone.now()
    raw.save(update_fields=SAVED_FIELDS)


def _claimed_by_listener(match: ThreadMatch, parsed: ParsedMail, contact, files, message_id):
    """The Message a listener stored for a threaded mail from a non-participant, or None.

    Only a sender the ticket is waiting for (a consulted department) is taken; anyone
    else still gets a new linked ticket (no hijacking).
    """
    if match.ticket is None:
        return None
    responses = mail_signals.reply_from_outsider.send(
        sender=RawMessage,
        ticket=match.ticket,
        contact=contact,
        from_address=parsed.from_address or "",
        body_text=parsed.text,
        body_html=parsed.html,
        files=files,
        message_id=message_id[:255],
    )
    return next((message for _receiver, message in responses if message is not None), None)


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


def our_addresses(mailbox_addresses: set[str]) -> set[str]:
    """Every address we send from (mailboxes and the default senders), lowercased."""
    addresses = set(mailbox_addresses)
    for sender in (settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL):
        addresses.add(parseaddr(sender)[1])
    return {address.lower() for address in addresses if address}


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


def _new_ticket(mailbox: Mailbox, parsed: ParsedMail, contact, match: ThreadMatch) -> Ticket:
    subject = parsed.subject
    if match.ticket is not None:
        # Not a participant: a new ticket, without the other ticket's tag in its subject.
        subject = SUBJECT_TAG.sub("", subject).strip()
    ticket = create_ticket(
        subject=subject, pool=mailbox.pool, requester=contact, channel=Channel.EMAIL
    )
    if match.ticket is not None:
        _link(ticket, match.ticket)
    return ticket


def _link(ticket: Ticket, other: Ticket) -> None:
    link_tickets([(ticket, other)], actor=None, reason=LINKED_NOT_PARTICIPANT)


def _route(ticket: Ticket, parsed: ParsedMail, *, language: str) -> None:
    # Created in this very transaction: the row is ours until commit and still new.
    route_ticket(ticket, text=f"{parsed.subject}\n{parsed.text}", is_locked=True, language=language)


def queue_auto_reply_for(
    ticket: Ticket, mailbox: Mailbox, parsed: ParsedMail, own_addresses: set[str]
) -> None:
    """Acknowledge a new ticket opened by ``parsed`` unless loop protection forbids it."""
    queue_auto_reply(
        ticket,
        mailbox=mailbox,
        to_address=parsed.from_address or "",
        may_auto_reply=loops.may_auto_reply(parsed, own_addresses=own_addresses),
    )
