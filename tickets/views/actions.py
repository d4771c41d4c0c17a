"""Changes made from the ticket page. Each view: check access, call one service, redirect."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from people.decorators import agent_required
from people.features import Feature
from people.profiles import feature_required
from tickets import services
from tickets.downloads import download_response
from tickets.forms import (
    AssignForm,
    MergeForm,
    NoteForm,
    StatusForm,
    TagsForm,
    TicketFieldsForm,
    WatcherForm,
)
from tickets.services.lifecycle import assign as assign_ticket
from tickets.views.detail import (
    canned_responses_for,
    reply_form_for,
    ticket_context,
    ticket_for_page,
)
from tickets.views.forms import handle_form


def _action_view(form_class, form_name, action, form_kwargs=None):
    """A POST-only agent view: validate, run ``action(request, ticket, data)``, redirect to
    what it returned (if it has a page) or the ticket; errors show on the ticket page."""

    @require_POST
    @login_required
    @agent_required
    def view(request, number):
        ticket = services.get_ticket_for(request.user, number)
        extra = form_kwargs(request, ticket) if form_kwargs else {}
        form = form_class(request.POST, request.FILES, **extra)

        def failure(form):
            page = ticket_for_page(request.user, number)
            context = ticket_context(request, page, **{form_name: form})
            return render(request, "tickets/ticket_detail.html", context, status=400)

        return handle_form(
            request,
            form,
            lambda data: action(request, ticket, data),
            success=lambda result: result if hasattr(result, "get_absolute_url") else ticket,
            failure=failure,
        )

    return view


def _reply(request, ticket, data):
    reply = services.add_reply(
        ticket,
        author=request.user,
        body=data["body"],
        files=data["attachments"],
        canned_response=data["canned_response"],
        then_status=data["then_status"] or None,
        idempotency_key=data["idempotency_key"],
        confirmed=data["confirmed"],
    )
    # The outbox sends it (even when the broker is down for a while: its sweep).
    if reply.is_sendable:
        messages.success(request, _("Your reply was saved and will be sent shortly."))
    else:
        messages.success(request, _("Your reply was added."))


def _change_status(request, ticket, data):
    ticket = services.change_status(
        ticket, to=data["status"], actor=request.user, reason=data["reason"]
    )
    messages.success(
        request, _("Status changed to %(status)s.") % {"status": ticket.get_status_display()}
    )


def _watchers(request, ticket, data):
    change = services.remove_watcher if data["remove"] else services.add_watcher
    change(ticket, user=data["user"], actor=request.user)


def _merge(request, ticket, data):
    target = services.get_ticket_for(request.user, data["target"])
    return services.merge_tickets(ticket, into=target, actor=request.user)


reply = _action_view(
    reply_form_for,
    "reply_form",
    _reply,
    lambda request, ticket: {"ticket": ticket, "user": request.user},
)
note = _action_view(
    NoteForm,
    "note_form",
    lambda request, ticket, data: services.add_note(
        ticket, author=request.user, body=data["body"], files=data["attachments"]
    ),
    lambda request, ticket: {"prefix": "note"},
)
change_status = _action_view(StatusForm, "status_form", _change_status)
update_fields = _action_view(
    TicketFieldsForm,
    "fields_form",
    lambda request, ticket, data: services.update_ticket(ticket, actor=request.user, **data),
)
assign = _action_view(
    AssignForm,
    "assign_form",
    lambda request, ticket, data: assign_ticket(
        ticket, agent=data["assignee"], manager=data["manager"], actor=request.user
    ),
    lambda request, ticket: {"pool": ticket.pool_id},
)
watchers = _action_view(
    WatcherForm, "watcher_form", _watchers, lambda request, ticket: {"ticket": ticket}
)
tags = _action_view(
    TagsForm,
    "tags_form",
    lambda request, ticket, data: services.set_tags(ticket, names=data["tags"], actor=request.user),
)
merge = feature_required(Feature.MERGE)(_action_view(MergeForm, "merge_form", _merge))


@require_POST
@login_required
@agent_required
def resubmit(request, number, message_id):
    """The junior author rewrites a returned reply and sends it for approval again."""
    ticket = services.get_ticket_for(request.user, number)
    message = get_object_or_404(ticket.messages, pk=message_id, author_user=request.user)
    try:
        services.resubmit_reply(
            message,
            author=request.user,
            body=request.POST.get("body", ""),
            then_status=request.POST.get("then_status", ""),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Your reply waits for approval again."))
    return redirect(ticket)


@require_GET
@login_required
@agent_required
def canned_response(request, number, canned_id):
    """Insert a canned response into the reply box (htmx swaps the editor)."""
    ticket = services.get_ticket_for(request.user, number)
    canned = get_object_or_404(canned_responses_for(request.user, ticket), pk=canned_id)
    text = services.render_canned_response(canned, ticket=ticket, agent=request.user)
    current = request.GET.get("body", "").rstrip()
    body = f"{current}\n\n{text}" if current else text
    form = reply_form_for(
        ticket=ticket, user=request.user, initial={"body": body, "canned_response": canned.pk}
    )
    return render(
        request,
        "tickets/ticket_detail.html#reply-editor",
        {"reply_form": form, "ticket": ticket, "canned": canned},
    )


@require_GET
@login_required
@agent_required
def attachment(request, number, attachment_id):
    """Download a file: always as an attachment, never rendered inline, only if allowed."""
    item = services.get_attachment_for(request.user, number, attachment_id)
    return download_response(item.file, filename=item.filename)


# Raster images only: SVG and HTML can carry script and are never served inline.
INLINE_IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


@require_GET
@login_required
@agent_required
def attachment_inline(request, number, attachment_id):
    """An inline image of a mail (cid:), shown in the message; other files are downloads."""
    item = services.get_attachment_for(request.user, number, attachment_id)
    if item.content_type.lower() not in INLINE_IMAGE_TYPES:
        raise Http404
    response = FileResponse(item.file.open("rb"), content_type=item.content_type.lower())
    response["Content-Disposition"] = "inline"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
