"""The ticket page: thread, forms and history, in a fixed number of queries."""

from typing import cast

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, Prefetch
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from people.decorators import agent_required
from tickets.customers import ticket_summary
from tickets.forms import (
    AssignForm,
    MergeForm,
    NoteForm,
    ReplyForm,
    StatusForm,
    TagsForm,
    TicketFieldsForm,
    WatcherForm,
)
from tickets.models import (
    ActivityLog,
    Attachment,
    CannedResponse,
    Message,
    MessageTag,
    Ticket,
    TicketStar,
)
from tickets.panels import AGENT, ON_TICKET, contact_panels_for, panels_for, thread_view_for
from tickets.services import get_ticket_for, mark_presence, others_on_ticket


def _ticket_queryset():
    return Ticket.objects.select_related(
        "requester__organization", "pool", "assignee"
    ).prefetch_related(
        "tags",
        "watchers",
        "linked_tickets",
        "requester__emails",
        "requester__phones",
        Prefetch(
            "messages",
            queryset=Message.objects.select_related(
                "author_user", "author_contact", "reviewed_by"
            ).prefetch_related(
                Prefetch("attachments", queryset=Attachment.objects.order_by("pk")),
                Prefetch("message_tags", queryset=MessageTag.objects.select_related("tag")),
            ),
        ),
        Prefetch("activity", queryset=ActivityLog.objects.select_related("actor")),
    )


def ticket_for_page(user, number: str) -> Ticket:
    """The ticket (404 unless ``user`` may see it) with all the page shows of it."""
    starred = TicketStar.objects.filter(ticket=OuterRef("pk"), user=user)
    queryset = _ticket_queryset().annotate(is_starred=Exists(starred))
    ticket = get_ticket_for(user, number, queryset=queryset)
    # Its topic, product, manager and merge target by primary key, in a second query: joined
    # into the first, nine tables cost PostgreSQL ~2 ms of planning, more than a round trip.
    more = Ticket.objects.select_related("topic", "product", "manager", "merged_into")
    more_of_it = more.get(pk=ticket.pk)
    for name in ("topic", "product", "manager", "merged_into"):
        setattr(ticket, name, getattr(more_of_it, name))
    return ticket


def canned_responses_for(user, ticket):
    return (
        CannedResponse.objects.usable_by(user, ticket.pool_id)
        .prefetch_related("files")
        .order_by("title")
    )


def reply_form_for(*args, ticket, user, **kwargs) -> ReplyForm:
    form = ReplyForm(*args, user=user, ticket=ticket, **kwargs)
    # Typing in the reply box tells the other agents on this ticket that someone is replying;
    # "/" and a few letters there offer quick replies (static/js/composer.js).
    form.fields["body"].widget.attrs.update(
        {
            "data-quick-replies": reverse("tickets:quick_replies", args=[ticket.number]),
            "hx-post": reverse("tickets:presence", args=[ticket.number]),
            "hx-trigger": "input changed delay:2s",
            "hx-vals": '{"replying": "1"}',
            "hx-target": "#presence",
            "hx-swap": "outerHTML",
        }
    )
    # Files dropped on the form go into this input, under the same limit (composer.js).
    form.fields["attachments"].widget.attrs["data-max-bytes"] = settings.TICKET_ATTACHMENT_MAX_BYTES
    return form


def assign_form_for(ticket) -> AssignForm:
    return AssignForm(
        pool=ticket.pool_id, initial={"assignee": ticket.assignee_id, "manager": ticket.manager_id}
    )


def fields_form_for(ticket) -> TicketFieldsForm:
    return TicketFieldsForm(
        initial={
            "priority": ticket.priority,
            "pool": ticket.pool_id,
            "topic": ticket.topic_id,
            "product": ticket.product_id,
        }
    )


# The sidebar forms that list agents, pools, topics or products. The page leaves them out
# (six queries and a few hundred <option>s) and htmx loads one when its section opens.
LAZY_FORMS = {
    "assign": ("assign_form", assign_form_for),
    "fields": ("fields_form", fields_form_for),
    "watchers": ("watcher_form", lambda ticket: WatcherForm(ticket=ticket)),
}


def requester_card(ticket, *, user) -> dict:
    """The customer at a glance: their other tickets (one query) and other apps' panels."""
    if ticket.requester is None:
        return {}
    return {
        "other_tickets": ticket_summary(ticket.requester, user=user, exclude=ticket),
        "contact_panels": contact_panels_for(ticket.requester, user=user, place=ON_TICKET),
    }


def ticket_context(request, ticket, **forms):
    """The ticket page. ``forms``: a submitted form to show with its errors (its section opens)."""
    context = {
        "ticket": ticket,
        "thread": ticket.messages.all(),
        "activity": ticket.activity.all(),
        "canned_responses": canned_responses_for(request.user, ticket),
        "reply_form": reply_form_for(ticket=ticket, user=request.user),
        "note_form": NoteForm(prefix="note"),
        "status_form": StatusForm(initial={"status": ticket.status}),
        "tags_form": TagsForm(initial={"tags": ", ".join(t.name for t in ticket.tags.all())}),
        "merge_form": MergeForm(),
        "others": others_on_ticket(ticket, user=request.user),
        "starred": getattr(ticket, "is_starred", False),
        # Boxes other apps add (disposition form, deadline...): tickets/panels.py.
        "panels": panels_for(ticket, user=request.user, audience=AGENT),
        **requester_card(ticket, user=request.user),
    }
    # A chat's thread as bubbles (the chat app), else the mail thread.
    context["thread_view"] = thread_view_for(ticket, user=request.user, messages=context["thread"])
    context["reply_confirmations"] = [p.confirm_reply for p in context["panels"] if p.confirm_reply]
    context.update(forms)
    return context


@require_GET
@login_required
@agent_required
def sidebar_form(request, number, name):
    """One of the ticket page's collapsed forms, loaded when its section opens."""
    if name not in LAZY_FORMS:
        raise Http404
    ticket = get_ticket_for(request.user, number)
    context_name, build = LAZY_FORMS[name]
    return render(
        request,
        f"tickets/ticket_sidebar.html#{name}-form",
        {"ticket": ticket, context_name: build(ticket)},
    )


def _requested_images(request) -> int | None:
    try:
        return int(request.GET["images"])
    except (KeyError, ValueError):
        return None


@login_required
@agent_required
def detail(request, number):
    ticket = ticket_for_page(request.user, number)
    if request.headers.get("HX-Target") == "thread":
        # A live event refreshes the thread and the status badge; the rest of the page (and
        # the reply being typed) stays as it is.
        thread = ticket.messages.all()
        return render(
            request,
            "tickets/ticket_live_parts.html",
            {
                "ticket": ticket,
                "thread": thread,
                # A chat's thread stays a chat (the chat app's bubbles) when refreshed.
                "thread_view": thread_view_for(ticket, user=request.user, messages=thread),
                "reply_form": reply_form_for(ticket=ticket, user=request.user),
            },
        )
    show_images_for = _requested_images(request)
    context = ticket_context(request, ticket, show_images_for=show_images_for)
    response = render(request, "tickets/ticket_detail.html", context)
    if show_images_for is not None:
        # The agent asked to see one message's remote images: allow https images on this
        # page only. Script rules stay as strict as everywhere else.
        base = cast(dict[str, list[str]], settings.SECURE_CSP)
        policy = {**base, "img-src": [*base["img-src"], "https:"]}
        # The attribute Django's csp_override decorator sets, for this response only.
        setattr(response, "_csp_config", policy)  # noqa: B010
    return response


@require_POST
@login_required
@agent_required
def presence(request, number):
    ticket = get_ticket_for(request.user, number)
    # Typing sends replying=1; the page's periodic refresh sends the reply box's text.
    is_replying = request.POST.get("replying") == "1" or bool(request.POST.get("body", "").strip())
    others = mark_presence(ticket, user=request.user, is_replying=is_replying)
    return render(
        request, "tickets/ticket_detail.html#presence", {"others": others, "ticket": ticket}
    )
