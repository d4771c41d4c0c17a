"""The inbox's small actions on a ticket: quick replies, stars, tags on one message.

Each view: the agent check, ``get_ticket_for`` (404 for a ticket outside their pools),
one service call, and a fragment for htmx (or a redirect without it).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from people.decorators import agent_required
from tickets import services
from tickets.models import Ticket
from tickets.services.inbox import (
    add_message_tag,
    quick_replies,
    remove_message_tag,
    toggle_star,
)


@require_GET
@login_required
@agent_required
def quick_reply_search(request, number):
    """Canned responses matching ``q`` for the composer's "/" menu, placeholders filled."""
    ticket = services.get_ticket_for(
        request.user, number, queryset=Ticket.objects.select_related("requester")
    )
    found = quick_replies(ticket, user=request.user, query=request.GET.get("q", ""))
    return JsonResponse(
        {
            "results": [
                {"id": item.id, "title": item.title, "text": item.text, "files": item.has_files}
                for item in found
            ]
        }
    )


def _back(request, ticket):
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}):
        return redirect(target)
    return redirect(ticket)


@require_POST
@login_required
@agent_required
def star(request, number):
    """Star or unstar the ticket for this agent (the queue row's and the ticket page's star)."""
    ticket = services.get_ticket_for(request.user, number)
    starred = toggle_star(ticket, user=request.user)
    if request.headers.get("HX-Request"):
        return render(request, "tickets/star_button.html", {"ticket": ticket, "starred": starred})
    return _back(request, ticket)


def _tags_fragment(request, ticket, message, error=""):
    message = ticket.messages.prefetch_related("message_tags__tag").get(pk=message.pk)
    context = {"ticket": ticket, "message": message, "tag_error": error}
    return render(request, "tickets/message_tags.html", context, status=400 if error else 200)


@require_POST
@login_required
@agent_required
def message_tag_add(request, number, message_id):
    """Tag one message of the thread (the bubble's tag form)."""
    ticket = services.get_ticket_for(request.user, number)
    message = get_object_or_404(ticket.messages, pk=message_id)
    error = ""
    try:
        add_message_tag(message, name=request.POST.get("name", ""), actor=request.user)
    except ValidationError as problem:
        error = " ".join(problem.messages)
    if request.headers.get("HX-Request"):
        return _tags_fragment(request, ticket, message, error)
    if error:
        messages.error(request, error)
    return _back(request, ticket)


@require_POST
@login_required
@agent_required
def message_tag_remove(request, number, message_id, tag_id):
    """Take a tag off one message."""
    ticket = services.get_ticket_for(request.user, number)
    message = get_object_or_404(ticket.messages, pk=message_id)
    remove_message_tag(message, tag_id=tag_id, actor=request.user)
    if request.headers.get("HX-Request"):
        return _tags_fragment(request, ticket, message)
    return _back(request, ticket)
