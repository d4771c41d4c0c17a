"""Replies by junior agents wait for a supervisor, who approves (it is sent) or returns them."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from people.roles import APPROVE_REPLIES
from tickets import signals
from tickets.models import ActivityLog, Approval, Message, Ticket
from tickets.services.audit import announce, log_activity

Action = ActivityLog.Action


def _pending(message: Message) -> Message:
    locked = Message.objects.select_for_update().select_related("ticket").get(pk=message.pk)
    if locked.approval != Approval.PENDING:
        raise ValidationError(_("This reply is not waiting for approval."))
    return locked


def _check_reviewer(actor) -> None:
    if not actor.has_perm(APPROVE_REPLIES):
        raise PermissionDenied


@transaction.atomic
def approve_reply(message: Message, *, actor, body: str | None = None) -> Message:
    """Approve a pending reply, optionally edited; it becomes sendable (``reply_ready``)."""
    _check_reviewer(actor)
    message = _pending(message)
    now = timezone.now()
    if body is not None and body.strip() and body != message.body_text:
        message.body_text = body
    message.approval = Approval.APPROVED
    message.reviewed_by, message.reviewed_at = actor, now
    message.save(update_fields=["body_text", "approval", "reviewed_by", "reviewed_at"])
    ticket = message.ticket
    if ticket.first_response_at is None:
        Ticket.objects.filter(pk=ticket.pk, first_response_at__isnull=True).update(
            first_response_at=now
        )
    log_activity(ticket, actor=actor, action=Action.REPLY_APPROVED, detail=message.body_text[:500])
    announce(signals.reply_ready, ticket=ticket, actor=actor, message=message)
    return message


@transaction.atomic
def return_reply(message: Message, *, actor, comment: str) -> Message:
    """Send a pending reply back to its author with a comment; nothing is sent."""
    _check_reviewer(actor)
    if not comment.strip():
        raise ValidationError(_("Say what should change."))
    message = _pending(message)
    message.approval = Approval.RETURNED
    message.reviewed_by, message.reviewed_at = actor, timezone.now()
    message.review_comment = comment
    message.save(update_fields=["approval", "reviewed_by", "reviewed_at", "review_comment"])
    log_activity(message.ticket, actor=actor, action=Action.REPLY_RETURNED, detail=comment[:500])
    return message


@transaction.atomic
def resubmit_reply(message: Message, *, author, body: str) -> Message:
    """The author rewrites a returned reply; it waits for approval again."""
    message = Message.objects.select_for_update().select_related("ticket").get(pk=message.pk)
    if message.approval != Approval.RETURNED or message.author_user_id != author.pk:
        raise ValidationError(_("Only the author can rewrite a returned reply."))
    if not body.strip():
        raise ValidationError(_("The reply is empty."))
    message.body_text, message.approval = body, Approval.PENDING
    message.save(update_fields=["body_text", "approval"])
    log_activity(message.ticket, actor=author, action=Action.APPROVAL_REQUESTED, detail=body[:500])
    return message


def pending_replies():
    """Replies waiting for a supervisor, oldest first (indexed)."""
    return (
        Message.objects.filter(approval=Approval.PENDING)
        .select_related("ticket", "ticket__pool", "author_user")
        .order_by("created_at")
    )
