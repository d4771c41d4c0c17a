"""Replies, internal notes and customer messages, with their attachments."""

import mimetypes
import string
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from people.roles import is_junior
from tickets import signals
from tickets.models import (
    ActivityLog,
    Approval,
    Attachment,
    CannedResponse,
    CannedResponseFile,
    Message,
    Ticket,
    clean_filename,
    shortened_from,
)
from tickets.services.audit import announce, let_replies_leave, log_activity
from tickets.services.lifecycle import assign_ticket, change_status
from tickets.states import Status, can_transition

Action = ActivityLog.Action
CUSTOMER_WROTE_REASON = gettext_noop("The customer wrote again.")


def _store_files(ticket: Ticket, message: Message, files) -> list[Attachment]:
    stored = []
    for upload in files or ():
        if upload.size > settings.TICKET_ATTACHMENT_MAX_BYTES:
            raise ValidationError(
                _("%(name)s is larger than the %(limit)d MB limit.")
                % {"name": upload.name, "limit": settings.TICKET_ATTACHMENT_MAX_BYTES // 2**20}
            )
        attachment = unsaved_attachment(ticket, message, upload)
        attachment.save()
        stored.append(attachment)
    return stored


def unsaved_attachment(ticket: Ticket | None, message: Message | None, upload) -> Attachment:
    """An Attachment for an uploaded or mailed file, its file stored, the row not saved yet."""
    name = clean_filename(upload.name)
    content_type = (
        getattr(upload, "content_type", "")
        or mimetypes.guess_type(name)[0]
        or "application/octet-stream"
    )
    attachment = Attachment(
        ticket=ticket,
        message=message,
        filename=name,
        original_filename=shortened_from(upload.name),
        content_type=content_type[:150],
        size=upload.size,
        content_id=(getattr(upload, "content_id", "") or "").strip("<>")[:255],
        is_inline=bool(getattr(upload, "is_inline", False)),
    )
    attachment.file.save(name, File(upload), save=False)
    return attachment


def _check_canned_usable(canned: CannedResponse | None, *, author, ticket: Ticket) -> None:
    # Every caller, not only the reply form: its files would go out with the reply.
    if canned is None:
        return
    if not CannedResponse.objects.usable_by(author, ticket.pool_id).filter(pk=canned.pk).exists():
        raise ValidationError(_("This canned response cannot be used on this ticket."))


def _copy_canned_files(ticket: Ticket, message: Message, canned: CannedResponse | None):
    if canned is None:
        return []
    copies = []
    for canned_file in canned.files.all():
        with canned_file.file.open("rb") as stored:
            copy = File(stored.file, name=canned_file.filename)
            copies.extend(_store_files(ticket, message, [copy]))
    return copies


def status_after_reply(ticket: Ticket, *, then_status: str, actor, reason: str = "") -> Ticket:
    """The status a reply leaves: the one chosen with it, else a taken ticket is in progress."""
    if then_status and then_status != ticket.status:
        return change_status(ticket, to=then_status, actor=actor, reason=reason)
    if ticket.status == Status.TAKEN:
        return change_status(ticket, to=Status.IN_PROGRESS, actor=actor, reason=reason)
    return ticket


def check_held_status(ticket: Ticket, then_status: str, *, author) -> None:
    # The junior hears now, not after the review, that the status cannot follow the reply.
    if not then_status or then_status == ticket.status:
        return
    if not can_transition(ticket.status, then_status):
        raise ValidationError(
            _("A ticket cannot go from “%(before)s” to “%(after)s”.")
            % {"before": Status(ticket.status).label, "after": Status(then_status).label}
        )
    if then_status in (Status.RESOLVED, Status.CLOSED):
        signals.close_requested.send(sender=Ticket, ticket=ticket, actor=author, to=then_status)


@transaction.atomic
def add_reply(
    ticket: Ticket,
    *,
    author,
    body: str,
    files=(),
    canned_response: CannedResponse | None = None,
    then_status: str | None = None,
    idempotency_key: str = "",
    confirmed: bool = False,
) -> Message:
    """Record an agent's reply to the customer, with files and a canned response's files.

    Anyone but a junior: the reply is ready to send at once (``let_replies_leave``), sets the
    first response time and ``then_status``. A junior's reply waits for approval and holds
    everything it carries: its files are not shown to the customer nor mailed, and
    ``then_status`` (or taken -> in progress) is stored on the message and applied by
    ``approve_reply``; nothing the customer sees or the SLA counts changes before. An
    unassigned ticket goes to the replier when they are a member of its pool. Announces
    ``messages_added`` after commit.
    With ``idempotency_key`` (the reply form's), a second call with the same key returns
    the first reply and changes nothing.

    Asks ``reply_requested`` first: a receiver may refuse a reply the agent has not
    ``confirmed`` (mail to an address that bounced permanently).
    """
    if not body.strip():
        raise ValidationError(_("The reply is empty."))
    signals.reply_requested.send(sender=Ticket, ticket=ticket, actor=author, confirmed=confirmed)
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if idempotency_key:
        # Under the ticket's lock: a resubmission racing the first waits, then finds it.
        earlier = Message.objects.filter(
            ticket=ticket, author_user=author, idempotency_key=idempotency_key
        ).first()
        if earlier is not None:
            return earlier
    _check_canned_usable(canned_response, author=author, ticket=ticket)
    now = timezone.now()
    needs_approval = is_junior(author)
    then_status = then_status or ""
    if needs_approval:
        check_held_status(ticket, then_status, author=author)
    message = Message.objects.create(
        ticket=ticket,
        kind=Message.Kind.OUTBOUND,
        author_user=author,
        body_text=body,
        created_at=now,
        approval=Approval.PENDING if needs_approval else Approval.NOT_NEEDED,
        held_status=then_status if needs_approval else "",
        idempotency_key=idempotency_key,
    )
    _store_files(ticket, message, files)
    _copy_canned_files(ticket, message, canned_response)
    fields = ["updated_at"]
    ticket.updated_at = now
    if ticket.first_response_at is None and not needs_approval:
        ticket.first_response_at = now
        fields.append("first_response_at")
    ticket.save(update_fields=fields)
    if needs_approval:
        log_activity(ticket, actor=author, action=Action.APPROVAL_REQUESTED, detail=body[:500])
    else:
        log_activity(ticket, actor=author, action=Action.REPLY, detail=body[:500])
        let_replies_leave([message], actor=author)
    announce(signals.messages_added, messages=[message], actor=author)
    if ticket.assignee_id is None and ticket.pool.memberships.filter(user=author).exists():
        ticket = assign_ticket(ticket, agent=author, actor=author)
    if not needs_approval:
        status_after_reply(ticket, then_status=then_status, actor=author)
    return message


@transaction.atomic
def add_note(ticket: Ticket, *, author, body: str, files=()) -> Message:
    """Record an internal note: agents see it, the customer never does."""
    if not body.strip():
        raise ValidationError(_("The note is empty."))
    message = Message.objects.create(
        ticket=ticket, kind=Message.Kind.NOTE, author_user=author, body_text=body
    )
    _store_files(ticket, message, files)
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=message.created_at)
    log_activity(ticket, actor=author, action=Action.NOTE, detail=body[:500])
    announce(signals.messages_added, messages=[message], actor=author)
    return message


@transaction.atomic
def add_consultation_message(
    ticket: Ticket,
    *,
    body_text: str,
    author=None,
    contact=None,
    body_html: str = "",
    files=(),
    message_id: str = "",
) -> Message:
    """Record a question to an internal department (``author``) or its answer (``contact``).

    Agents see it in the thread; the customer never does. The caller logs its own history
    row. Announces ``messages_added`` after commit.
    """
    if not body_text.strip() and not body_html.strip():
        raise ValidationError(_("The message is empty."))
    message = Message.objects.create(
        ticket=ticket,
        kind=Message.Kind.CONSULTATION,
        author_user=author,
        author_contact=contact,
        body_text=body_text,
        body_html=body_html,
        message_id=message_id,
    )
    _store_files(ticket, message, files)
    Ticket.objects.filter(pk=ticket.pk).update(updated_at=message.created_at)
    announce(signals.messages_added, messages=[message], actor=author)
    return message


@transaction.atomic
def add_canned_files(canned: CannedResponse, *, files) -> list[CannedResponseFile]:
    """Store uploaded files with a canned response; they are copied onto each reply using it."""
    stored = []
    for upload in files or ():
        if upload.size > settings.TICKET_ATTACHMENT_MAX_BYTES:
            raise ValidationError(_("%(name)s is too large.") % {"name": upload.name})
        item = CannedResponseFile(canned_response=canned, filename=clean_filename(upload.name))
        item.file.save(uuid.uuid4().hex, File(upload), save=False)
        item.save()
        stored.append(item)
    return stored


class _Placeholders(dict):
    def __missing__(self, key):
        # An unknown placeholder stays visible rather than breaking the reply.
        return "{" + key + "}"


def render_canned_response(canned: CannedResponse, *, ticket: Ticket, agent) -> str:
    """The canned text with placeholders filled in for this ticket and agent, links appended."""
    values = _Placeholders(
        customer_name=ticket.requester.name if ticket.requester else "",
        ticket_number=ticket.number,
        subject=ticket.subject,
        agent_name=agent.get_full_name() or agent.get_username(),
    )
    # Only plain {name} fields: format_map on attribute or index lookups is refused, so a
    # canned text cannot reach into objects.
    pieces = []
    for literal, field, _spec, _conv in string.Formatter().parse(canned.body):
        pieces.append(literal)
        if field is not None:
            pieces.append(values[field] if field.isidentifier() else "{" + field + "}")
    text = "".join(pieces)
    links = canned.url_list()
    return text + ("\n\n" + "\n".join(links) if links else "")
