"""The queue's tools: bulk actions, the Take button, the compact mode."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from people.decorators import agent_required
from tickets import services
from tickets.bulk import BulkActionForm, may_bulk_edit
from tickets.services.bulk import apply_bulk_action

# Refusals listed one by one up to this many; the rest are counted.
REFUSALS_LISTED = 20


def _back_to(request, fallback="tickets:queue"):
    """Where the form came from (a queue address on this site), else ``fallback``."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


def _report(request, outcome) -> None:
    changed = len(outcome.changed)
    messages.success(
        request,
        ngettext("%(count)d ticket changed.", "%(count)d tickets changed.", changed)
        % {"count": changed},
    )
    if outcome.unchanged:
        messages.info(
            request,
            _("Already as asked: %(numbers)s.") % {"numbers": ", ".join(outcome.unchanged)},
        )
    for label, reason in outcome.refused[:REFUSALS_LISTED]:
        messages.error(
            request,
            _("%(ticket)s refused: %(reason)s") % {"ticket": label, "reason": reason},
        )
    hidden = len(outcome.refused) - REFUSALS_LISTED
    if hidden > 0:
        messages.error(request, _("%(count)d more refused.") % {"count": hidden})


@require_POST
@login_required
@agent_required
def bulk_action(request):
    """Apply one action to the ticked tickets, each through its own service, then report."""
    if not may_bulk_edit(request.user):
        raise PermissionDenied
    form = BulkActionForm(request.POST, user=request.user)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return _back_to(request)
    value = form.value()
    if form.cleaned_data["action"] == "merge":
        try:
            value = services.get_ticket_for(request.user, form.cleaned_data["target"])
        except Http404:  # A number the agent cannot see is "not found" too.
            messages.error(
                request,
                _("No ticket %(number)s in your pools.") % {"number": form.cleaned_data["target"]},
            )
            return _back_to(request)
    outcome = apply_bulk_action(
        form.cleaned_data["ticket_ids"],
        action=form.cleaned_data["action"],
        value=value,
        actor=request.user,
    )
    _report(request, outcome)
    return _back_to(request)


@require_POST
@login_required
@agent_required
def take(request, number):
    """Take an unassigned ticket: assign it to me through the assign service."""
    ticket = services.get_ticket_for(request.user, number)
    try:
        services.take_ticket(ticket, agent=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Ticket %(number)s is yours.") % {"number": ticket.number})
    return _back_to(request, fallback=ticket.get_absolute_url())


@require_POST
@login_required
@agent_required
def toggle_compact(request):
    """Switch the queue between one line per ticket and the full rows; kept on the profile."""
    profile = getattr(request.user, "agent_profile", None)
    if profile is not None:
        profile.compact_queue = not profile.compact_queue
        profile.save(update_fields=["compact_queue"])
    return _back_to(request)
