"""The supervisors' approval queue: junior agents' replies wait here until approved or returned."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from people.decorators import agent_required
from people.features import Feature
from people.profiles import check_feature
from people.roles import sees_all_pools
from tickets import services
from tickets.models import Approval, Message
from tickets.views.paging import page_of

PAGE_SIZE = 25


def reviewer_required(view):
    """Only those who may approve replies see the queue; to anyone else it does not exist."""

    @wraps(view)
    @login_required
    @agent_required
    def wrapper(request, *args, **kwargs):
        check_feature(request.user, Feature.APPROVALS)
        return view(request, *args, **kwargs)

    return wrapper


def _pending_for(user):
    replies = services.pending_replies()
    if not sees_all_pools(user):
        replies = replies.filter(ticket__pool__memberships__user=user)
    return replies


# The latest messages of each ticket shown above its pending reply: what it answers and
# anything written since. One query for the whole page, however many replies it holds.
CONVERSATION_SIZE = 5


def _conversation() -> Prefetch:
    shown = (
        Message.objects.exclude(approval__in=[Approval.PENDING, Approval.RETURNED])
        .select_related("author_user", "author_contact")
        .order_by("-created_at", "-pk")[:CONVERSATION_SIZE]
    )
    return Prefetch("ticket__messages", queryset=shown, to_attr="recent_messages")


@reviewer_required
def approval_queue(request):
    pending = _pending_for(request.user)
    paged = page_of(request, pending.prefetch_related("attachments", _conversation()), PAGE_SIZE)
    context = {**paged, "replies": paged["rows"], "pending_count": pending.count()}
    return render(request, "tickets/approval_queue.html", context)


def _review(request, message_id, action, done_message):
    message = get_object_or_404(_pending_for(request.user), pk=message_id)
    try:
        action(message)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    except PermissionDenied:
        raise Http404 from None
    else:
        messages.success(request, done_message % {"number": message.ticket.number})
    # Reviewed from the ticket page (its own form says so): back there, else to the queue.
    if request.POST.get("back") == "ticket":
        return redirect(message.ticket)
    return redirect("tickets:approvals")


@require_POST
@reviewer_required
def approve(request, message_id):
    """Approve a pending reply, with the supervisor's edits and its held status (or not)."""
    body = request.POST.get("body", "")
    status = request.POST.get("status")  # absent: apply what the junior chose
    return _review(
        request,
        message_id,
        lambda message: services.approve_reply(
            message, actor=request.user, body=body, status=status
        ),
        _("The reply on ticket %(number)s was approved and is being sent."),
    )


@require_POST
@reviewer_required
def return_reply(request, message_id):
    """Send a pending reply back to its author with a comment; nothing is sent."""
    comment = request.POST.get("comment", "")
    return _review(
        request,
        message_id,
        lambda message: services.return_reply(message, actor=request.user, comment=comment),
        _("The reply on ticket %(number)s was returned to its author."),
    )
