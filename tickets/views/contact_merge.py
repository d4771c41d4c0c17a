"""Merging a contact into another, from the contact page: pick, confirm, merge.

Supervisors and admins only (``may_merge_contacts``): a merge moves the person's tickets
of every pool, and the confirmation counts them, which an agent of one pool may not see.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from people.decorators import agent_required
from people.models import Contact
from tickets.customers import search_contacts
from tickets.services.contact_merge import (
    check_merge,
    may_merge_contacts,
    merge_contacts,
    merge_preview,
)


def _contacts():
    return Contact.objects.select_related("organization", "user").prefetch_related(
        "emails", "phones"
    )


def _merger(request):
    if not may_merge_contacts(request.user):
        raise PermissionDenied


@login_required
@agent_required
def merge_pick(request, contact_id):
    """Search for the contact to merge into this one."""
    _merger(request)
    target = get_object_or_404(_contacts(), pk=contact_id, merged_into__isnull=True)
    query = request.GET.get("q", "")
    found = [c for c in search_contacts(query, user=request.user) if c.pk != target.pk]
    found = [c for c in found if c.merged_into_id is None]
    context = {"contact": target, "query": query, "found": found}
    return render(request, "tickets/contact_merge.html", context)


@login_required
@agent_required
def merge_confirm(request, contact_id, source_id):
    """What will move from the other contact, and the button that moves it."""
    _merger(request)
    target = get_object_or_404(_contacts(), pk=contact_id)
    source = get_object_or_404(_contacts(), pk=source_id)
    error = ""
    try:
        check_merge(source, into=target)
    except ValidationError as problem:
        error = " ".join(problem.messages)
    if request.method == "POST" and not error:
        try:
            merge_contacts(source, into=target, actor=request.user)
        except ValidationError as problem:
            error = " ".join(problem.messages)
        else:
            messages.success(
                request,
                _("%(source)s was merged into %(target)s.")
                % {"source": source.name, "target": target.name},
            )
            return redirect("tickets:contact", target.pk)
    context = {
        "contact": target,
        "source": source,
        "moving": merge_preview(source, into=target),
        "error": error,
    }
    return render(
        request, "tickets/contact_merge_confirm.html", context, status=400 if error else 200
    )
