"""Tables as CSV or XLSX downloads (values as numbers, not as the page formats them)."""

import csv
import io

from django.http import HttpResponse

FORMATS = ("csv", "xlsx")


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, int | float):
        return value
    value = str(value)
    # A name starting with = + - @ would run as a formula in a spreadsheet (CSV injection).
    return "'" + value if value[:1] in ("=", "+", "-", "@") else value


def respond(kind: str, name: str, header: list, rows: list[list]) -> HttpResponse:
    """A download of ``rows`` under ``header``; durations are in seconds."""
    if kind == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(name[:31])
        sheet.append([str(cell) for cell in header])
        for row in rows:
            sheet.append([_cell(cell) for cell in row])
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    else:
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        writer = csv.writer(response)
        writer.writerow([str(cell) for cell in header])
        for row in rows:
            writer.writerow([_cell(cell) for cell in row])
    response["Content-Disposition"] = f'attachment; filename="{name}.{kind}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
