"""Report pages as PDF (WeasyPrint), with their charts drawn by matplotlib as SVG."""

import base64
import io

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string

COLOURS = ["#0d6efd", "#198754", "#fd7e14", "#dc3545", "#6f42c1", "#20c997"]


def chart_svg(chart: dict | None) -> str:
    """The page's chart (``Table.chart``) as an SVG data URL; "" when there is nothing."""
    if not chart or not chart["labels"]:
        return ""
    import matplotlib

    matplotlib.use("Agg")  # no display: files only
    from matplotlib.figure import Figure

    figure = Figure(figsize=(9, 3.2))
    axes = figure.subplots()
    count = len(chart["datasets"])
    width = 0.8 if chart["stacked"] else 0.8 / max(count, 1)
    bottoms = [0.0] * len(chart["labels"])
    for i, dataset in enumerate(chart["datasets"]):
        values = [float(value or 0) for value in dataset["data"]]
        if chart["stacked"]:
            positions: list[float] = list(range(len(values)))
            axes.bar(positions, values, width, bottom=bottoms, label=dataset["label"],
                     color=COLOURS[i % len(COLOURS)])  # fmt: skip
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
        else:
            positions = [x - 0.4 + width * (i + 0.5) for x in range(len(values))]
            axes.bar(positions, values, width, label=dataset["label"],
                     color=COLOURS[i % len(COLOURS)])  # fmt: skip
    axes.set_xticks(range(len(chart["labels"])), [str(label) for label in chart["labels"]])
    axes.tick_params(axis="x", labelrotation=30, labelsize=8)
    axes.spines[["top", "right"]].set_visible(False)
    axes.legend(fontsize=8, frameon=False)
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue().encode()).decode()


def render(context: dict, *, request=None) -> bytes:
    """``templates/reports/report_pdf.html`` filled with ``context``, as PDF bytes; its
    links are absolute (the site's address when there is no request: a mailed report)."""
    from weasyprint import HTML

    context = {**context, "chart_image": chart_svg(context.get("chart"))}
    html = render_to_string("reports/report_pdf.html", context, request=request)
    base = request.build_absolute_uri("/") if request is not None else settings.SITE_URL
    return HTML(string=html, base_url=base).write_pdf()


def respond(request, name: str, context: dict) -> HttpResponse:
    """``templates/reports/report_pdf.html`` filled with ``context``, as a PDF download."""
    pdf = render(context, request=request)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
