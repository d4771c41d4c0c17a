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

from people.features import Feature
from people.profiles import feature_required
from people.roles import is_agent, sees_all_pools
from sla.filters import DeadlineFilter
from sla.forms import ConsultationForm, PoolClosingForm
from sla.models import Consultation, Deadline, PoolClosing
from sla.services import closing_rules, start_consultation
from tickets.models import Pool
from tickets.services import get_ticket_for
from tickets.views.forms import handle_form
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
@feature_required(Feature.OVERDUE_DASHBOARD)
def overdue_dashboard(request):
    now = timezone.now()
    soon = now + timedelta(minutes=settings.SLA_DUE_SOON_MINUTES)
    due = Deadline.objects.due_before(soon)
    if not sees_all_pools(request.user):
        # A profile may show the board to an agent: the deadlines of their own pools.
        due = due.filter(ticket__pool__memberships__user=request.user)
    board = DeadlineFilter(request.GET, queryset=due)
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


@login_required
@feature_required(Feature.ADMIN_SECTIONS)
def pool_closing_list(request):
    """Per pool: its calendar and after how many working days resolved tickets close."""
    rules = closing_rules()
    own = {rule.pool_id: rule for rule in PoolClosing.objects.select_related("calendar")}
    rows = [
        {"pool": pool, "rule": own.get(pool.pk), "days": rules.get(pool.pk, (0, None))[0]}
        for pool in Pool.objects.filter(active=True).order_by("name")
    ]
    return render(
        request,
        "sla/pool_closing_list.html",
        {"rows": rows, "default_days": settings.AUTO_CLOSE_BUSINESS_DAYS},
    )


@login_required
@feature_required(Feature.ADMIN_SECTIONS)
def pool_closing_edit(request, pool_id):
    pool = Pool.objects.filter(active=True, pk=pool_id).first()
    if pool is None:
        raise Http404
    rule = PoolClosing.objects.filter(pool=pool).first() or PoolClosing(
        pool=pool, close_resolved_after_days=settings.AUTO_CLOSE_BUSINESS_DAYS
    )
    form = PoolClosingForm(request.POST or None, instance=rule)
    if request.method != "POST":
        return render(request, "sla/pool_closing_form.html", {"form": form, "pool": pool})
    return handle_form(
        request,
        form,
        lambda data: form.save(),
        success=lambda saved: "sla:pool-closing",
        failure=lambda bad: render(
            request, "sla/pool_closing_form.html", {"form": bad, "pool": pool}, status=400
        ),
        done=_("Saved the closing rule of %(pool)s.") % {"pool": pool.name},
    )
