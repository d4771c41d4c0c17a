"""The outbox: replies and auto-replies become OutgoingEmail rows, sent once by a claiming task.

States: queued -> sending -> sent, or -> retry (back-off) -> ... -> failed. A row is claimed
with a conditional UPDATE, so two workers (or a task delivered twice) never send it twice.
"""

import logging
import mimetypes
import re
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count, F, Q, prefetch_related_objects
from django.utils import timezone
from django.utils.html import escape, linebreaks
from django.utils.translation import gettext_noop

from helpdesk.celery import app as celery_app
from helpdesk.celery import enqueue_on_commit
from mailboxes import mime
from mailboxes.emails import auto_reply_email, first_message_email, ticket_mailbox, with_tag
from mailboxes.loops import make_message_id
from mailboxes.models import AutoReplyLog, Mailbox, OutgoingEmail
from mailboxes.smtp import SMTP_TIMEOUT as SMTP_TIMEOUT  # tests and callers read it here
from mailboxes.smtp import mailer_for, mailer_key
from mailboxes.suppression import suppressed_among
from mailboxes.tokens import make_reply_address
from tickets.models import ActivityLog, Message, Ticket
from tickets.services.audit import activity_row, log_activities, log_activity
from tickets.states import Channel

logger = logging.getLogger(__name__)

State = OutgoingEmail.State
Action = ActivityLog.Action

REFERENCES_LIMIT = 20
# A row in "sending" for longer than this belongs to a worker that died: claim it again.
# Longer than any SMTP conversation (set EMAIL_TIMEOUT well below it).
STUCK_AFTER = timedelta(minutes=10)
# A row still waiting for the job enqueued this long ago lost it (a broker restart without
# persistence, say): only then does the sweep enqueue it again, so that the broker never
# holds two jobs for one row while a backlog drains.
LOST_JOB_AFTER = timedelta(minutes=5)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(minutes=30)
AUTOMATIC_HEADERS = {"Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All"}
# RFC 3834: mail sent on a timer (reminders, escalations), not in answer to a message.
GENERATED_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}
NOT_APPROVED = gettext_noop("Not sent: the reply is not approved.")
SIGNATURE_CID = "signature"
_PREFIX = re.compile(r"^\s*((re|aw|sv|odp|res|fw|fwd|enc|tr)\s*(\[\d+\])?\s*:\s*)+", re.I)


# --- building the row ---------------------------------------------------------------------


def sender_of(mailbox: Mailbox | None) -> tuple[Mailbox | None, str, str]:
    """(mailbox, bare from-address, From header) of mail from a ticket's mailbox (or none)."""
    if mailbox is None:
        name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        return None, address, formataddr((name, address))
    return mailbox, mailbox.from_address, formataddr((mailbox.from_name, mailbox.from_address))


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "helpdesk.localhost"


def _bracketed(message_id: str) -> str:
    message_id = message_id.strip()
    return message_id if message_id.startswith("<") else f"<{message_id}>"


def reply_subject(ticket: Ticket) -> str:
    """``Re: <subject> [#<number>]``: one "Re:", the tag always, never twice."""
    subject = _PREFIX.sub("", ticket.subject.replace(ticket.tag_label, ""))
    return with_tag(f"Re: {subject}", ticket)


def thread_headers(ticket_ids) -> dict[int, tuple[str, str]]:
    """Each ticket's In-Reply-To (the customer's latest mail) and References (the recent
    chain of mail, notes and consultations left out), in one query for all of them."""
    headers = {pk: ("", "") for pk in ticket_ids}
    rows = (
        Message.objects.filter(ticket_id__in=headers)
        .exclude(message_id="")
        .order_by("ticket_id", "-created_at", "-pk")
        .values_list("ticket_id", "kind", "message_id")
    )
    mail_by_ticket: dict[int, list[tuple[str, str]]] = {}
    for ticket_id, kind, message_id in rows:
        mail_by_ticket.setdefault(ticket_id, []).append((kind, message_id))
    hidden = (Message.Kind.NOTE, Message.Kind.CONSULTATION)
    for ticket_id, mail in mail_by_ticket.items():
        recent = [(kind, mid) for kind, mid in mail if kind not in hidden][:REFERENCES_LIMIT]
        chain = [_bracketed(mid) for _kind, mid in reversed(recent)]
        latest = next((mid for kind, mid in mail if kind == Message.Kind.INBOUND), "")
        in_reply_to = _bracketed(latest) if latest else ""
        if in_reply_to and in_reply_to not in chain:
            chain.append(in_reply_to)
        headers[ticket_id] = (in_reply_to, " ".join(dict.fromkeys(chain)))
    return headers


def _signature_image(message: Message | None):
    profile = getattr(message and message.author_user, "agent_profile", None)
    return profile.signature_image if profile and profile.signature_image else None


def _signature(message: Message) -> str:
    profile = getattr(message.author_user, "agent_profile", None)
    return profile.signature_text.strip() if profile else ""


def _is_first_message(ticket: Ticket, message: Message) -> bool:
    """An agent opened the ticket by writing to the customer, and this is what they wrote."""
    if ticket.channel != Channel.OUTBOUND_EMAIL:
        return False
    earlier = Message.objects.filter(ticket=ticket, kind=Message.Kind.OUTBOUND, pk__lt=message.pk)
    return not earlier.exists()


def _reply_bodies(message: Message, domain: str) -> tuple[str, str]:
    signature = _signature(message)
    text = message.body_text.rstrip() + (f"\n\n-- \n{signature}" if signature else "") + "\n"
    if _signature_image(message) is None:
        return text, ""
    # The image travels inline in a multipart/related part, referenced by its Content-ID.
    html = linebreaks(message.body_text.rstrip(), autoescape=True)
    if signature:
        html += linebreaks(signature, autoescape=True)
    html += f'<p><img src="cid:{escape(SIGNATURE_CID)}@{escape(domain)}" alt=""></p>'
    return text, f"<!doctype html><html><body>{html}</body></html>"


def send_task_for(*, internal: bool):
    """The send task of a row: internal mail has its own queue (settings.CELERY_TASK_ROUTES).

    Looked up by name in the app's registry: this module sits below tasks.py.
    """
    name = "mailboxes.tasks." + (
        "send_internal_email_task" if internal else "send_outgoing_email_task"
    )
    if name not in celery_app.tasks:
        celery_app.loader.import_default_modules()  # the apps' tasks modules, as a worker does
    return celery_app.tasks[name]


def enqueue_outgoing(outgoing_ids: list[int], *, internal: bool) -> None:
    """Wake a worker for outbox rows after commit (one job for the list); never raises.

    The rows are the truth: when the broker refuses the job, their ``enqueued_at`` is
    cleared and the minute sweep (send_due_outgoing_emails_task) enqueues them again.
    """
    if not outgoing_ids:
        return

    def lost() -> None:
        OutgoingEmail.objects.filter(pk__in=outgoing_ids).update(enqueued_at=None)

    enqueue_on_commit(send_task_for(internal=internal), list(outgoing_ids), on_failure=lost)


def enqueue(rows: list[OutgoingEmail]) -> list[OutgoingEmail]:
    """One send job per queue for these new rows (internal mail has its own); the rows."""
    for internal in (False, True):
        enqueue_outgoing([row.pk for row in rows if row.internal == internal], internal=internal)
    return rows


@transaction.atomic
def queue_reply(message: Message) -> OutgoingEmail | None:
    """Put an agent's reply in the outbox (once per message); the send task runs after commit.

    Re-reads the message under a row lock: a pending or returned junior reply is never
    queued, whoever calls. Safe to re-run: returns the existing row.
    """
    message = Message.objects.select_for_update().get(pk=message.pk)
    if not message.is_sendable:
        return None
    # A row blocked at send time (forged, or queued before approval) is not the real one.
    OutgoingEmail.objects.filter(
        ticket_message=message, state=State.FAILED, last_error=NOT_APPROVED
    ).delete()
    existing = OutgoingEmail.objects.filter(ticket_message=message).first()
    if existing is not None:
        return existing
    ticket = Ticket.objects.select_related("requester").get(pk=message.ticket_id)
    to_address = ticket.requester.primary_email if ticket.requester else ""
    if not to_address:
        return None
    mailbox, address, from_header = sender_of(ticket_mailbox(ticket))
    message_id = make_message_id(address)
    in_reply_to, references = thread_headers([ticket.pk])[ticket.pk]
    subject = reply_subject(ticket)
    body_text, body_html = _reply_bodies(message, _domain(address))
    if _is_first_message(ticket, message):
        message.ticket = ticket
        first = first_message_email(message, mailbox=mailbox, signature=_signature(message))
        subject, body_text, body_html = first.subject, first.body_text, first.body_html
    outgoing = OutgoingEmail.objects.create(
        kind=OutgoingEmail.Kind.REPLY,
        ticket=ticket,
        ticket_message=message,
        mailbox=mailbox,
        from_address=from_header,
        reply_to=make_reply_address(address, ticket.pk),
        to=[to_address],
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        message_id=message_id,
        in_reply_to=in_reply_to,
        references=references,
    )
    # Customers' replies thread on it like on any message of the ticket.
    Message.objects.filter(pk=message.pk).update(message_id=message_id)
    return enqueue([outgoing])[0]


@transaction.atomic
def queue_notification(
    ticket: Ticket,
    *,
    to: list[str],
    subject: str,
    body_text: str,
    body_html: str = "",
    automatic: bool = True,
    in_reply_to: str = "",
) -> OutgoingEmail | None:
    """Put a mail about ``ticket`` to people other than the customer in the outbox.

    Agents' reminders and escalations (``automatic``: marked Auto-Submitted so nobody's
    auto-responder answers), or a question to a department. No reply token: whoever gets
    it is not made a participant. Sent by the same claiming task after commit; the row
    carries a fresh Message-ID that replies thread on. None when nobody is addressed.
    """
    recipients = list(dict.fromkeys(address.strip().lower() for address in to if address))
    if automatic:
        # A permanent bounce stops automatic mail to the address (mailboxes.suppression).
        suppressed = suppressed_among(recipients)
        recipients = [address for address in recipients if address not in suppressed]
    if not recipients:
        return None
    mailbox, address, from_header = sender_of(ticket_mailbox(ticket))
    outgoing = OutgoingEmail.objects.create(
        kind=OutgoingEmail.Kind.NOTIFICATION,
        ticket=ticket,
        mailbox=mailbox,
        from_address=from_header,
        to=recipients,
        subject=with_tag(subject, ticket),
        body_text=body_text,
        body_html=body_html,
        message_id=make_message_id(address),
        in_reply_to=_bracketed(in_reply_to) if in_reply_to else "",
        references=_bracketed(in_reply_to) if in_reply_to else "",
        headers=dict(GENERATED_HEADERS) if automatic else {},
        internal=True,
    )
    return enqueue([outgoing])[0]


# --- auto-replies -------------------------------------------------------------------------


def is_over_rate_limit(address: str, now: datetime) -> bool:
    sent = AutoReplyLog.objects.filter(address=address, sent_at__gt=now - timedelta(hours=1))
    return sent.count() >= settings.AUTO_REPLY_LIMIT_PER_HOUR


@dataclass
class AutoReplyRequest:
    """One new ticket to acknowledge: its first message and the parser's verdict."""

    ticket: Ticket
    mailbox: Mailbox
    to_address: str
    may_auto_reply: bool
    first_message: Message | None = None  # None: a ticket that may have older mail


def queue_auto_replies(
    requests: list[AutoReplyRequest], *, mailbox_addresses: set[str] | None = None
) -> list[OutgoingEmail]:
    """Queue the acknowledgements of new tickets, unless one could start a mail loop.

    ``may_auto_reply`` is the parser's verdict (False for auto-replies, bounces, lists).
    Never to our addresses (``mailbox_addresses``: every mailbox's from-address, read here
    when the caller has not), nor a suppressed one (a permanent bounce), at most
    AUTO_REPLY_LIMIT_PER_HOUR per address (counting the ones queued here), once per ticket
    (safe to re-run), one AutoReplyLog row each; a few queries in all. A request with its
    ``first_message`` threads on it (a ticket opened in this transaction, which has no
    auto-reply yet); one without is checked for an earlier auto-reply and threads on the
    ticket's messages.
    """
    wanted = []
    for request in requests:
        address = request.to_address.strip().lower()
        if request.mailbox.auto_reply and request.may_auto_reply and "@" in address:
            wanted.append((request, address))
    older = [request.ticket.pk for request, _address in wanted if request.first_message is None]
    if older:
        answered = set(
            OutgoingEmail.objects.filter(
                ticket__in=older, kind=OutgoingEmail.Kind.AUTO_REPLY
            ).values_list("ticket_id", flat=True)
        )
        wanted = [
            (request, address) for request, address in wanted if request.ticket.pk not in answered
        ]
    if not wanted:
        return []
    if mailbox_addresses is None:
        mailbox_addresses = set(Mailbox.objects.values_list("from_address", flat=True))
    now = timezone.now()
    ours = {address.lower() for address in mailbox_addresses} | default_senders()
    sent = dict(
        AutoReplyLog.objects.filter(
            address__in={address for _request, address in wanted},
            sent_at__gt=now - timedelta(hours=1),
        )
        .values_list("address")
        .annotate(count=Count("pk"))
        .order_by()
    )
    suppressed = suppressed_among(address for _request, address in wanted)
    threads = thread_headers(
        [request.ticket.pk for request, _address in wanted if request.first_message is None]
    )
    templates: dict = {}
    shared: dict = {}
    rows, logs = [], []
    for request, address in wanted:
        if (
            _is_ours(address, ours)
            or address in suppressed
            or sent.get(address, 0) >= settings.AUTO_REPLY_LIMIT_PER_HOUR
        ):
            continue
        sent[address] = sent.get(address, 0) + 1
        ticket, mailbox = request.ticket, request.mailbox
        rendered = auto_reply_email(ticket, mailbox=mailbox, cache=templates, shared=shared)
        if request.first_message is None:
            in_reply_to, references = threads[ticket.pk]
        else:
            first = request.first_message.message_id
            in_reply_to = references = _bracketed(first) if first else ""
        rows.append(
            OutgoingEmail(
                kind=OutgoingEmail.Kind.AUTO_REPLY,
                ticket=ticket,
                mailbox=mailbox,
                from_address=formataddr((mailbox.from_name, mailbox.from_address)),
                reply_to=make_reply_address(mailbox.from_address, ticket.pk),
                to=[address],
                subject=rendered.subject,
                body_text=rendered.body_text,
                body_html=rendered.body_html,
                message_id=make_message_id(mailbox.from_address),
                in_reply_to=in_reply_to,
                references=references,
                headers=dict(AUTOMATIC_HEADERS),
            )
        )
        logs.append(AutoReplyLog(address=address, sent_at=now))
    OutgoingEmail.objects.bulk_create(rows)
    AutoReplyLog.objects.bulk_create(logs)
    return enqueue(rows)


def default_senders() -> set[str]:
    """The site's own sender addresses (DEFAULT_FROM_EMAIL, SERVER_EMAIL), lower-cased."""
    return {
        parseaddr(sender)[1].lower()
        for sender in (settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL)
    }


def _is_ours(address: str, ours: set[str]) -> bool:
    # Our addresses (the mailboxes' and the default senders), and their +token variants.
    local, _, domain = address.strip().lower().rpartition("@")
    return bool({f"{local}@{domain}", f"{local.split('+')[0]}@{domain}"} & ours)


# --- sending ------------------------------------------------------------------------------


class _ReplyEmail(EmailMultiAlternatives):
    """A Django mail whose MIME comes from ``mailboxes.mime`` (a quarter of Django's CPU),
    its HTML part carrying inline images (multipart/related)."""

    def __init__(self, *args, related=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.related = list(related)  # (content, maintype, subtype, cid without brackets)

    def message(self, **kwargs):
        # Every backend calls this (SMTP with policy=SMTP): the tree is built with CRLF.
        html = [content for content, mimetype in self.alternatives if mimetype == "text/html"]
        return mime.build(
            subject=str(self.subject),
            from_address=str(self.from_email),
            to=self.to,
            cc=self.cc,
            reply_to=self.reply_to,
            body_text=str(self.body),
            body_html=str(html[0]) if html else "",
            headers=self.extra_headers,
            related=self.related,
            attachments=self.attachments,
        )


def _build_email(outgoing: OutgoingEmail) -> _ReplyEmail:
    headers = {"Message-ID": outgoing.message_id, **outgoing.headers}
    if outgoing.in_reply_to:
        headers["In-Reply-To"] = outgoing.in_reply_to
    if outgoing.references:
        headers["References"] = outgoing.references
    related = []
    image = _signature_image(outgoing.ticket_message)
    if outgoing.body_html and image is not None:
        maintype, _, subtype = (mimetypes.guess_type(image.name)[0] or "image/png").partition("/")
        with image.open("rb") as stored:
            cid = f"{SIGNATURE_CID}@{_domain(parseaddr(outgoing.from_address)[1])}"
            related.append((stored.read(), maintype, subtype, cid))
    email = _ReplyEmail(
        subject=outgoing.subject,
        body=outgoing.body_text,
        from_email=outgoing.from_address,
        to=outgoing.to,
        cc=outgoing.cc,
        reply_to=[outgoing.reply_to] if outgoing.reply_to else None,
        headers=headers,
        related=related,
    )
    if outgoing.body_html:
        email.attach_alternative(outgoing.body_html, "text/html")
    if outgoing.ticket_message is not None:
        for item in outgoing.ticket_message.attachments.all():
            with item.file.open("rb") as stored:
                content = stored.read()
            mimetype = item.content_type or "application/octet-stream"
            email.attach(item.filename, content, mimetype)
    elif outgoing.kind == OutgoingEmail.Kind.NOTIFICATION:
        # A notification may carry files of its own (a scheduled report's PDF).
        for file in outgoing.files.all():
            email.attach(file.filename, bytes(file.content), file.content_type)
    return email


def _due(now: datetime) -> Q:
    return Q(state__in=[State.QUEUED, State.RETRY], next_attempt_at__lte=now) | Q(
        state=State.SENDING, next_attempt_at__lte=now - STUCK_AFTER
    )


def _without_job(now: datetime) -> Q:
    return Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - LOST_JOB_AFTER)


def due_outgoing_ids(now: datetime | None = None, *, limit: int = 500) -> list[int]:
    """Rows whose (re)try time has come, or stuck in sending, and that have no job waiting
    in the broker (none enqueued, or enqueued longer than LOST_JOB_AFTER ago); one query
    on the due index."""
    now = now or timezone.now()
    rows = OutgoingEmail.objects.filter(_due(now), _without_job(now)).order_by("next_attempt_at")
    return list(rows.values_list("pk", flat=True)[:limit])


def requeue_due_outgoing_emails(now: datetime | None = None) -> list[int]:
    """Enqueue a send job for every due row without one; the ids enqueued.

    Each row is claimed by a conditional UPDATE of ``enqueued_at``, so two beats (or a
    task delivered twice) enqueue a row once. Safe to re-run.
    """
    now = now or timezone.now()
    due = OutgoingEmail.objects.filter(_due(now), _without_job(now)).order_by("next_attempt_at")
    enqueued = []
    for outgoing_id, internal in due.values_list("pk", "internal")[:500]:
        with transaction.atomic():
            claimed = OutgoingEmail.objects.filter(
                _due(now), _without_job(now), pk=outgoing_id
            ).update(enqueued_at=now)
            if claimed:
                enqueue_outgoing([outgoing_id], internal=internal)
                enqueued.append(outgoing_id)
    return enqueued


def _claim(outgoing_ids: list[int], now: datetime) -> list[OutgoingEmail]:
    """Lock the rows that are due (another worker's claim is skipped), mark them sending.

    next_attempt_at doubles as "claimed at" while sending, so a dead worker's row is found
    again by the same index after STUCK_AFTER. The job is consumed: enqueued_at is cleared,
    so a retry is enqueued by the sweep as soon as it is due. Two statements for the list.
    """
    with transaction.atomic():
        rows = list(
            OutgoingEmail.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("ticket_message__author_user__agent_profile", "mailbox__oauth")
            .filter(_due(now), pk__in=outgoing_ids)
            .order_by("pk")
        )
        # What _build_email attaches: a query for the list, not one per mail, and none for
        # mail that carries no files (auto-replies, most notifications).
        notices = [row for row in rows if row.kind == OutgoingEmail.Kind.NOTIFICATION]
        prefetch_related_objects(notices, "files")
        replies = [row for row in rows if row.ticket_message_id]
        prefetch_related_objects(replies, "ticket_message__attachments")
        OutgoingEmail.objects.filter(pk__in=[row.pk for row in rows]).update(
            state=State.SENDING, attempts=F("attempts") + 1, next_attempt_at=now, enqueued_at=None
        )
    for row in rows:
        row.state, row.attempts, row.next_attempt_at = State.SENDING, row.attempts + 1, now
    return rows


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at 30 min."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY)


def _is_permanent(error: Exception) -> bool:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in error.recipients.values())
    return isinstance(error, smtplib.SMTPSenderRefused) and error.smtp_code >= 500


def _record_failure(outgoing: OutgoingEmail, error: Exception, now: datetime) -> None:
    text = f"{type(error).__name__}: {error}"[:2000]
    final = outgoing.attempts >= settings.OUTBOX_MAX_ATTEMPTS or _is_permanent(error)
    state = State.FAILED if final else State.RETRY
    OutgoingEmail.objects.filter(pk=outgoing.pk, state=State.SENDING).update(
        state=state, last_error=text, next_attempt_at=now + retry_delay(outgoing.attempts)
    )
    if final and outgoing.ticket_id:
        detail = f"{', '.join(outgoing.to)}: {text}"[:500]
        ticket = Ticket(pk=outgoing.ticket_id)  # the key is all the row needs
        log_activity(ticket, actor=None, action=Action.DELIVERY_FAILED, detail=detail)


def _send_over_one_connection(pending: list[OutgoingEmail]) -> list[OutgoingEmail]:
    """Send rows of one SMTP account over one connection; the rows that were sent.

    On the first failure that row retries with back-off and the rows after it go back to
    the queue with a job of their own (none waits in "sending" behind a hung server).
    """
    sent: list[OutgoingEmail] = []
    mailer = mailer_for(pending[0].mailbox)
    try:
        opened = len(pending) > 1 and mailer.open()
    except Exception:  # each send below tries again and records its own failure
        opened = False
    try:
        for index, outgoing in enumerate(pending):
            try:
                mailer.send_messages([_build_email(outgoing)])
            except Exception as error:  # SMTP down, timeouts, a missing file: retry, never raise
                logger.warning("Outgoing email %s not sent: %s", outgoing.pk, error)
                _record_failure(outgoing, error, timezone.now())
                rest = pending[index + 1 :]
                OutgoingEmail.objects.filter(pk__in=[row.pk for row in rest]).update(
                    state=State.QUEUED, attempts=F("attempts") - 1, enqueued_at=timezone.now()
                )
                enqueue(rest)
                break
            sent.append(outgoing)
    finally:
        if opened:
            mailer.close()
    return sent


def send_outgoing_emails(outgoing_ids: list[int]) -> set[int]:
    """Claim outbox rows and send them, each through its mailbox's SMTP account (or the
    site's); the ids that were sent.

    One connection per SMTP account, and a few statements, for the list. Safe to re-run: a row sent,
    failed, not yet due or claimed by another worker is left alone. Errors never escape: a
    failing row gets a retry with back-off (then a failure shown on the ticket), and the
    rows after it go back to the queue with a job of their own (none waits in "sending"
    behind a hung server long enough to be claimed again). An unapproved reply is refused.
    """
    rows = _claim(sorted(set(outgoing_ids)), timezone.now())
    blocked = [
        row.pk
        for row in rows
        if row.ticket_message is not None and not row.ticket_message.is_sendable
    ]
    if blocked:
        OutgoingEmail.objects.filter(pk__in=blocked).update(
            state=State.FAILED, last_error=NOT_APPROVED
        )
        logger.warning("Outgoing emails %s blocked: their reply is not approved", blocked)
    pending = [row for row in rows if row.pk not in blocked]
    # Each mailbox with an SMTP account of its own sends through it; the rest through the
    # site's. One connection per account for the list.
    groups: dict[str, list[OutgoingEmail]] = {}
    for row in pending:
        groups.setdefault(mailer_key(row.mailbox), []).append(row)
    sent = []
    for group in groups.values():
        sent += _send_over_one_connection(group)
    OutgoingEmail.objects.filter(pk__in=[row.pk for row in sent]).update(
        state=State.SENT, sent_at=timezone.now(), last_error=""
    )
    log_activities(
        [
            activity_row(
                Ticket(pk=row.ticket_id),
                actor=None,
                action=Action.MAIL_SENT,
                detail=", ".join(row.to),
            )
            for row in sent
            if row.ticket_id
        ]
    )
    return {row.pk for row in sent}


def requeue_outgoing_email(outgoing_id: int) -> bool:
    """Give a failed row a fresh set of attempts (an admin's "send again"); True if re-armed.

    Sent rows are never re-armed; the send-time approval check still applies.
    """
    now = timezone.now()
    rearmed = OutgoingEmail.objects.filter(pk=outgoing_id, state=State.FAILED).update(
        state=State.QUEUED, attempts=0, next_attempt_at=now, last_error="", enqueued_at=now
    )
    if rearmed:
        internal = OutgoingEmail.objects.filter(pk=outgoing_id).values_list("internal", flat=True)[
            0
        ]
        enqueue_outgoing([outgoing_id], internal=internal)
    return bool(rearmed)
