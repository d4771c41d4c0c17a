"""The indicators dashboard, the breakdowns and the period report, with their exports."""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from reports import exports, pdf
from reports.figures import DASHBOARD, PERIOD_REPORT, figure, measure_keys
from reports.measures import DIMENSIONS, compute
from reports.periods import PeriodForm
from reports.scope import FILTER_PARAMS, scope_for
from reports.tables import breakdown_table, period_table

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
def dashboard(request):
    scope, form, periods = _context(request)
    keys = [name for _title, items in DASHBOARD for pair in items for name in pair if name]
    values = compute(scope.tickets, periods, measure_keys(keys))
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
def period_report(request):
    scope, form, periods = _context(request)
    values = compute(scope.tickets, periods, measure_keys(PERIOD_REPORT))
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
