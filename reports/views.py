"""The indicators dashboard, the breakdowns and the period report, with their exports."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from people.decorators import agent_required
from people.features import Feature
from people.profiles import feature_required
from reports import exports, pdf, saved
from reports.custom import custom_table, form_for, stored_query
from reports.figures import DASHBOARD, PERIOD_REPORT, figure, measure_keys
from reports.forms import SaveReportForm, SharingForm
from reports.measures import DIMENSIONS, compute
from reports.periods import PeriodForm
from reports.scope import FILTER_PARAMS, scope_for, scope_of
from reports.tables import breakdown_table, period_table
from tickets.views.forms import handle_form

# The columns the charts draw (the same figures as the tables).
CHARTED = {"tickets": ("received", "solved"), "satisfaction": ("average_rating",)}
SOLVED_KINDS = (
    "solved_on_time_without_consultation",
    "solved_on_time_with_consultation",
    "solved_late_with_consultation",
    "solved_late_without_consultation",
)

# What the report tabs carry over from one page to the next: the period and the filters.
CARRIED = ("period", "start", "end", *FILTER_PARAMS)


def _context(request):
    scope = scope_for(request)
    form = PeriodForm(request.GET if "period" in request.GET else None)
    now, before = form.periods()
    return scope, form, {"now": now, "before": before}


def carried(request) -> str:
    return urlencode([(key, request.GET[key]) for key in CARRIED if request.GET.get(key)])


@login_required
@feature_required(Feature.REPORTS)
def dashboard(request):
    scope, form, periods = _context(request)
    keys = [name for _title, items in DASHBOARD for pair in items for name in pair if name]
    values = compute(scope.tickets, periods, measure_keys(keys), days=scope.days)
    sections = [
        (title, [figure(scope, values, periods, key, base) for key, base in items])
        for title, items in DASHBOARD
    ]
    if request.GET.get("export") in exports.FORMATS:
        rows = [
            [str(title), item.label, item.now, item.before]
            for title, items in sections
            for item in items
        ]
        header = [_("Section"), _("Figure"), _("This period"), _("Previous period")]
        return exports.respond(request.GET["export"], "indicators", header, rows)
    context = {"scope": scope, "form": form, "periods": periods, "sections": sections}
    context["carried"] = carried(request)
    if request.GET.get("export") == "pdf":
        context["title"] = _("Indicators") if scope.sees_all else _("My figures")
        return pdf.respond(request, "indicators", context)
    return render(request, "reports/dashboard.html", context)


@login_required
@feature_required(Feature.REPORTS)
def breakdown(request):
    scope, form, periods = _context(request)
    dimension = request.GET.get("by") or "pool"
    view = "satisfaction" if request.GET.get("view") == "satisfaction" else "tickets"
    if dimension not in DIMENSIONS:
        raise Http404
    table = breakdown_table(scope, periods, dimension, view)
    if request.GET.get("export") in exports.FORMATS:
        return exports.respond(request.GET["export"], f"{view}-by-{dimension}", *table.export())
    context = {
        "scope": scope,
        "form": form,
        "periods": periods,
        "table": table,
        "dimension": dimension,
        "dimensions": [(key, label) for key, (_i, _l, label) in DIMENSIONS.items()],
        "view": view,
        "carried": carried(request),
        "chart": table.chart(CHARTED[view]),
    }
    if request.GET.get("export") == "pdf":
        context["title"] = f"{_('Satisfaction') if view == 'satisfaction' else _('Breakdowns')}"
        return pdf.respond(request, f"{view}-by-{dimension}", context)
    return render(request, "reports/breakdown.html", context)


@login_required
@feature_required(Feature.REPORTS)
def period_report(request):
    scope, form, periods = _context(request)
    values = compute(scope.tickets, periods, measure_keys(PERIOD_REPORT), days=scope.days)
    figures = [figure(scope, values, periods, key) for key in PERIOD_REPORT]
    table = period_table(scope, periods) if scope.sees_all else None
    export = request.GET.get("export")
    if export in exports.FORMATS:
        if request.GET.get("table") == "agents" and table is not None:
            return exports.respond(export, "period-report-by-agent", *table.export())
        rows = [[item.label, item.now, item.before] for item in figures]
        header = [_("Figure"), _("This period"), _("Previous period")]
        return exports.respond(export, "period-report", header, rows)
    context = {
        "scope": scope,
        "form": form,
        "periods": periods,
        "figures": figures,
        "table": table,
        "carried": carried(request),
        "chart": table.chart(SOLVED_KINDS, stacked=True) if table else None,
    }
    if export == "pdf":
        context["title"] = _("Period report")
        return pdf.respond(request, "period-report", context)
    return render(request, "reports/period_report.html", context)


# Custom reports ---------------------------------------------------------------------------


def _custom_page(request, scope, form, *, report=None):
    """The custom report page (or its export) for ``form`` in ``scope``."""
    table = custom_table(scope, form)
    export = request.GET.get("export")
    if table is not None and export in exports.FORMATS:
        return exports.respond(export, "custom-report", *table.export())
    period = form.report_period()
    title = report.name if report else _("Custom report")
    context = {
        "scope": scope,
        "form": form,
        "filter_form": scope.filter.form,
        "periods": {"now": period},
        "single_period": True,
        "custom_page": True,
        "custom": table,
        "chart": table.chart if table else None,
        "report": report,
        "title": title,
        "query": stored_query(form.data),
        "carried": carried(request),
        "saved_reports": saved.readable_by(request.user).select_related("owner"),
    }
    if table is not None and export == "pdf":
        return pdf.respond(request, "custom-report", context)
    if report is not None and report.owner_id == request.user.pk:
        context["sharing"] = sharing_form(report, request.POST or None)
    return render(request, "reports/custom.html", context, status=200 if table else 400)


def sharing_form(report, data=None) -> SharingForm:
    return SharingForm(
        data,
        colleagues=saved.colleagues(report.owner),
        initial={"shared_with": list(report.shared_with.all()), "schedule": report.schedule},
    )


@login_required
@agent_required
@feature_required(Feature.REPORTS)
def custom_report(request):
    """Build a custom report from the page's parameters (defaults on the first visit)."""
    form = form_for(request.GET)
    return _custom_page(request, scope_of(request.user, form.data), form)


@login_required
@agent_required
@feature_required(Feature.REPORTS)
def saved_report(request, pk: int):
    """A saved report, computed for whoever opens it, in their scope."""
    report = saved.report_for(request.user, pk)
    form = form_for(report.query)
    return _custom_page(request, scope_of(request.user, form.data), form, report=report)


@login_required
@agent_required
@require_POST
@feature_required(Feature.REPORTS)
def save_custom_report(request):
    """Save the parameters posted with a name; back to the saved report."""
    query = stored_query(request.POST)
    form = SaveReportForm(request.POST)

    def failure(form):
        messages.error(request, _("Give the report a name."))
        return redirect(f"{reverse('reports:custom')}?{urlencode(query, doseq=True)}")

    if not form_for(query).is_valid():
        raise Http404
    return handle_form(
        request,
        form,
        lambda data: saved.save_report(request.user, data["name"], query),
        success=lambda report: reverse("reports:saved", args=[report.pk]),
        failure=failure,
        done=_("Report saved."),
    )


@login_required
@agent_required
@require_POST
@feature_required(Feature.REPORTS)
def share_report(request, pk: int):
    """The owner shares the report with supervisors and sets its schedule."""
    report = saved.own_report(request.user, pk)
    form = sharing_form(report, request.POST)

    def failure(form):
        shown = form_for(report.query)
        response = _custom_page(request, scope_of(request.user, shown.data), shown, report=report)
        response.status_code = 400
        return response

    return handle_form(
        request,
        form,
        lambda data: saved.change_sharing(
            report, shared_with=data["shared_with"], schedule=data["schedule"]
        ),
        success=lambda report: reverse("reports:saved", args=[report.pk]),
        failure=failure,
        done=_("Sharing and schedule saved."),
    )


@login_required
@agent_required
@require_POST
@feature_required(Feature.REPORTS)
def delete_report(request, pk: int):
    report = saved.own_report(request.user, pk)
    report.delete()
    messages.success(request, _("Report deleted."))
    return redirect("reports:custom")
