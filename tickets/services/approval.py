"""Replies by junior agents wait for a supervisor, who approves (it is sent) or returns them."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from people.features import Feature
from people.profiles import has_feature
from tickets.models import ActivityLog, Approval, Message, Ticket
from tickets.services.audit import let_replies_leave, log_activity
from tickets.services.messages import check_held_status, status_after_reply
from tickets.states import HELD_STATUSES

Action = ActivityLog.Action


def _pending(message: Message) -> Message:
    locked = Message.objects.select_for_update().select_related("ticket").get(pk=message.pk)
    if locked.approval != Approval.PENDING:
        raise ValidationError(_("This reply is not waiting for approval."))
    return locked


def _check_reviewer(actor) -> None:
    if not has_feature(actor, Feature.APPROVALS):
        raise PermissionDenied


# approve_reply(status=KEEP_HELD) applies what the junior chose; "" applies no chosen status.
KEEP_HELD = None


@transaction.atomic
def approve_reply(
    message: Message, *, actor, body: str | None = None, status: str | None = KEEP_HELD
) -> Message:
    """Approve a pending reply, optionally edited, and apply everything it held, atomically.

    The reply becomes sendable (``let_replies_leave``: mailed, and the SLA's response targets are
    met), then the held status is applied as a normal change by the approver (``status``
    overrides it; ``""`` drops it), so ``statuses_changed`` (SLA resolution, survey,
    notifications) fires only now, after commit. The first response time is the approval
    time, not the junior's: that is when the customer gets the answer. A held status the
    ticket can no longer take (the customer wrote again and it was closed, a required
    disposition form) refuses the whole approval; the supervisor can approve without it.
    """
    _check_reviewer(actor)
    if status is not KEEP_HELD and status not in ("", *HELD_STATUSES):
        raise ValidationError(_("This status cannot be set with a reply."))
    message = _pending(message)
    if message.author_user_id == actor.pk:
        raise PermissionDenied  # four eyes: nobody approves their own reply
    now = timezone.now()
    if body is not None and body.strip() and body != message.body_text:
        message.body_text = body
    message.approval = Approval.APPROVED
    message.reviewed_by, message.reviewed_at = actor, now
    if status is not KEEP_HELD:
        message.held_status = status
    message.save(
        update_fields=["body_text", "approval", "reviewed_by", "reviewed_at", "held_status"]
    )
    ticket = Ticket.objects.select_for_update().get(pk=message.ticket_id)
    if ticket.first_response_at is None:
        ticket.first_response_at = now
        ticket.save(update_fields=["first_response_at"])
    log_activity(ticket, actor=actor, action=Action.REPLY_APPROVED, detail=message.body_text[:500])
    let_replies_leave([message], actor=actor)
    author = message.author_user
    status_after_reply(
        ticket,
        then_status=message.held_status,
        actor=actor,
        reason=_("Set with the approved reply of %(name)s.")
        % {"name": (author.get_full_name() or author.get_username()) if author else "—"},
    )
    return message


@transaction.atomic
def return_reply(message: Message, *, actor, comment: str) -> Message:
    """Send a pending reply back to its author with a comment; nothing is sent or applied.

    The held status is dropped; the files stay with the draft, still hidden from the
    customer. The author sees the comment on the ticket page and in their queue.
    """
    _check_reviewer(actor)
    if not comment.strip():
        raise ValidationError(_("Say what should change."))
    message = _pending(message)
    message.approval = Approval.RETURNED
    message.reviewed_by, message.reviewed_at = actor, timezone.now()
    message.review_comment = comment
    message.held_status = ""
    message.save(
        update_fields=["approval", "reviewed_by", "reviewed_at", "review_comment", "held_status"]
    )
    log_activity(message.ticket, actor=actor, action=Action.REPLY_RETURNED, detail=comment[:500])
    return message


@transaction.atomic
def resubmit_reply(message: Message, *, author, body: str, then_status: str = "") -> Message:
    """The author rewrites a returned reply (and may choose its status again); it waits again."""
    message = Message.objects.select_for_update().select_related("ticket").get(pk=message.pk)
    if message.approval != Approval.RETURNED or message.author_user_id != author.pk:
        raise ValidationError(_("Only the author can rewrite a returned reply."))
    if not body.strip():
        raise ValidationError(_("The reply is empty."))
    if then_status and then_status not in HELD_STATUSES:
        raise ValidationError(_("This status cannot be set with a reply."))
    check_held_status(message.ticket, then_status, author=author)
    message.body_text, message.approval = body, Approval.PENDING
    message.held_status = then_status
    message.save(update_fields=["body_text", "approval", "held_status"])
    log_activity(message.ticket, actor=author, action=Action.APPROVAL_REQUESTED, detail=body[:500])
    return message


def returned_replies_of(author):
    """The author's replies that were returned and not rewritten yet, newest first."""
    return (
        Message.objects.filter(approval=Approval.RETURNED, author_user=author)
        .select_related("ticket", "reviewed_by")
        .order_by("-reviewed_at")
    )


def pending_replies():
    """Replies waiting for a supervisor, oldest first (indexed)."""
    return (
        Message.objects.filter(approval=Approval.PENDING)
        .select_related("ticket", "ticket__pool", "author_user")
        .order_by("created_at")
    )
