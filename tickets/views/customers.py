"""Agents and their customers: open a ticket for one, find one, see one at a glance."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from people.decorators import agent_required
from people.models import Contact
from tickets.customers import contact_counts, search_contacts, tickets_of_contact
from tickets.forms import NewTicketForm
from tickets.panels import ON_CONTACT, contact_panels_for
from tickets.services.contact_merge import may_merge_contacts
from tickets.services.opening import open_agent_tickets
from tickets.views.forms import handle_form
from tickets.views.paging import page_of

CONTACT_TICKETS_PER_PAGE = 25


def _chosen_contact(form):
    """The contact ticked in the form (posted, or ?contact= from a contact's page)."""
    value = form["requester"].value()
    try:
        return Contact.objects.prefetch_related("emails").filter(pk=int(value)).first()
    except (TypeError, ValueError):
        return None


@login_required
@agent_required
def new_ticket(request):
    """The New ticket form: phone, walk-in, outbound email... on the customer's behalf."""
    initial = {"requester": request.GET.get("contact")}
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    form = NewTicketForm(data, files, user=request.user, initial=initial)

    def show(form):
        context = {"form": form, "chosen": _chosen_contact(form)}
        return render(
            request, "tickets/ticket_new.html", context, status=400 if form.is_bound else 200
        )

    if request.method != "POST":
        return show(form)
    return handle_form(
        request,
        form,
        lambda data: open_agent_tickets([form.agent_ticket()], actor=request.user)[0],
        success=lambda ticket: ticket.get_absolute_url(),
        failure=show,
        done=_("The ticket was opened."),
    )


@require_GET
@login_required
@agent_required
def contact_search(request):
    """The requester autocomplete (htmx): contacts by name, address or number."""
    found = search_contacts(request.GET.get("q", ""), user=request.user)
    return render(request, "tickets/contact_search.html", {"found": found})


@require_GET
@login_required
@agent_required
def contact_detail(request, contact_id):
    """A customer at a glance: details, their tickets (of the agent's pools), other apps'
    panels (survey answers, calls, plans)."""
    contact = get_object_or_404(
        Contact.objects.select_related("organization").prefetch_related("emails", "phones"),
        pk=contact_id,
    )
    if contact.merged_into_id:
        return redirect("tickets:contact", contact.merged_into_id)
    context = {
        "contact": contact,
        "may_merge": may_merge_contacts(request.user),
        "counts": contact_counts(contact, user=request.user),
        "panels": contact_panels_for(contact, user=request.user, place=ON_CONTACT),
        **page_of(
            request, tickets_of_contact(contact, user=request.user), CONTACT_TICKETS_PER_PAGE
        ),
    }
    return render(request, "tickets/contact_detail.html", context)
