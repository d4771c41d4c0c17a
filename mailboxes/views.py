"""Held mail: the list for an agent's pools, one mail to review, release and reject."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mailboxes import quarantine
from people.decorators import agent_required

PAGE_SIZE = 50


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


@login_required
@agent_required
def held_list(request):
    page = _page_number(request)
    # Bounded pagination: one extra row tells whether there is a next page.
    rows = list(
        quarantine.held_mail_visible_to(request.user)[(page - 1) * PAGE_SIZE : page * PAGE_SIZE + 1]
    )
    context = {"held": rows[:PAGE_SIZE], "page": page, "has_next": len(rows) > PAGE_SIZE}
    return render(request, "mailboxes/rawmessage_held_list.html", context)


@login_required
@agent_required
def held_detail(request, raw_message_id):
    raw = quarantine.get_held_mail_for(request.user, raw_message_id)
    context = {"raw": raw, "preview": quarantine.preview(raw)}
    return render(request, "mailboxes/rawmessage_held_detail.html", context)


def _back(request, raw):
    # Only our own two pages: never a redirect to an address the form carried.
    if request.POST.get("back") == "list":
        return redirect("mailboxes:held_list")
    return redirect(raw.ticket) if raw.ticket is not None else redirect("mailboxes:held_list")


@require_POST
@login_required
@agent_required
def release(request, raw_message_id):
    held = quarantine.get_held_mail_for(request.user, raw_message_id)
    raw = quarantine.release_held_mail(held.pk, actor=request.user)
    messages.success(request, _("The mail was released into the ticket's thread."))
    return _back(request, raw)


@require_POST
@login_required
@agent_required
def reject(request, raw_message_id):
    held = quarantine.get_held_mail_for(request.user, raw_message_id)
    raw = quarantine.reject_held_mail(held.pk, actor=request.user)
    messages.success(request, _("The mail was rejected: it stays out of the ticket."))
    return _back(request, raw)
