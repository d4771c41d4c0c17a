"""The overdue dashboard for supervisors and the consultation page of a ticket."""

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from people.roles import is_agent, sees_all_pools
from sla.filters import DeadlineFilter
from sla.forms import ConsultationForm
from sla.models import Consultation, Deadline
from sla.services import start_consultation
from tickets.services import get_ticket_for
from tickets.views.paging import page_of


def _pool_counts(deadlines, now):
    """Overdue and due-soon targets per pool, one aggregate query."""
    return (
        deadlines.order_by()
        .values("pool__name")
        .annotate(
            overdue=Count("pk", filter=Q(due_at__lte=now)),
            soon=Count("pk", filter=Q(due_at__gt=now)),
        )
        .order_by("-overdue", "pool__name")
    )


@login_required
def overdue_dashboard(request):
    if not sees_all_pools(request.user):
        raise Http404
    now = timezone.now()
    soon = now + timedelta(minutes=settings.SLA_DUE_SOON_MINUTES)
    board = DeadlineFilter(request.GET, queryset=Deadline.objects.due_before(soon))
    deadlines = board.qs if request.GET.get("ordering") else board.qs.order_by("due_at", "pk")
    rows = deadlines.select_related("ticket__pool", "ticket__assignee", "consultation__department")
    context = {
        **page_of(request, rows, settings.SLA_DASHBOARD_PAGE_SIZE),
        "board": board,
        "now": now,
        "refresh_seconds": settings.SLA_DASHBOARD_REFRESH_SECONDS,
        "counts": _pool_counts(board.qs, now),
    }
    # htmx polling asks for the board only: no filter form to build.
    template = "sla/deadline_dashboard.html"
    if request.headers.get("HX-Request"):
        template += "#board"
    return render(request, template, context)


@login_required
def consult(request, number):
    if not is_agent(request.user):
        raise Http404
    ticket = get_ticket_for(request.user, number)
    form = ConsultationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            consultation = start_consultation(
                ticket,
                department=form.cleaned_data["department"],
                question=form.cleaned_data["question"],
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Your question went to %(department)s.")
                % {"department": consultation.department.name},
            )
            return redirect(ticket)
    consultations = Consultation.objects.filter(ticket=ticket).select_related(
        "department", "consultant"
    )
    return render(
        request,
        "sla/consultation_form.html",
        {"ticket": ticket, "form": form, "consultations": consultations, "now": timezone.now()},
    )
