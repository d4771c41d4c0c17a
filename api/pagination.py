"""Cursor (keyset) pagination: page N costs what page 1 costs, and rows never repeat or go
missing when tickets arrive between two pages.

The cursor names the sort key and the last row's (value, id); the next page is the rows
after it in (value, id) order. Sort keys come from ``ORDERINGS`` only.
"""

import base64
import binascii
import json
from datetime import datetime

from django.conf import settings
from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.utils.urls import replace_query_param

# name -> (field, descending)
ORDERINGS = {
    "-created": ("created_at", True),
    "created": ("created_at", False),
    "-updated": ("updated_at", True),
    "updated": ("updated_at", False),
    "-priority": ("priority", True),
    "priority": ("priority", False),
}
DEFAULT_ORDERING = "-created"


ID_ORDERING = {"id": ("pk", False)}
DATETIME_FIELDS = ("created_at", "updated_at", "started_at")


def page_size(request) -> int:
    raw = request.query_params.get("limit", "")
    if not raw:
        return settings.API_PAGE_SIZE
    if not raw.isdigit() or not 1 <= int(raw) <= settings.API_MAX_PAGE_SIZE:
        raise ValidationError(
            {"limit": [_("A number from 1 to %(max)d.") % {"max": settings.API_MAX_PAGE_SIZE}]}
        )
    return int(raw)


def ordering_of(request, orderings=ORDERINGS, default=DEFAULT_ORDERING) -> str:
    name = request.query_params.get("ordering") or default
    if name not in orderings:
        raise ValidationError(
            {"ordering": [_("Sort by one of: %(names)s.") % {"names": ", ".join(orderings)}]}
        )
    return name


def _encode(ordering: str, value, pk: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps({"o": ordering, "v": value, "id": pk}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, ordering: str, field: str):
    invalid = ValidationError({"cursor": [_("This cursor is not valid (or not for this sort).")]})
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        pk, value = int(data["id"]), data["v"]
    except (binascii.Error, ValueError, TypeError, KeyError, UnicodeDecodeError):
        raise invalid from None
    if not isinstance(data, dict) or data.get("o") != ordering or abs(pk) > 2**62:
        raise invalid
    if field in DATETIME_FIELDS:
        try:
            value = parse_datetime(value) if isinstance(value, str) else None
        except ValueError:
            value = None
        if value is None or value.tzinfo is None:
            raise invalid
    elif not isinstance(value, int) or isinstance(value, bool) or abs(value) > 2**62:
        raise invalid
    return value, pk


def page_ids(
    queryset, request, *, orderings=ORDERINGS, default=DEFAULT_ORDERING
) -> tuple[list[int], str | None]:
    """The ids of the asked page in order, and the URL of the next page (None at the end).

    One query: the index on the sort column is read from the cursor on, LIMIT size + 1.
    """
    size, ordering = page_size(request), ordering_of(request, orderings, default)
    field, descending = orderings[ordering]
    cursor = request.query_params.get("cursor")
    if cursor:
        value, pk = _decode(cursor, ordering, field)
        if descending:
            after = Q(**{f"{field}__lte": value}) & (Q(**{f"{field}__lt": value}) | Q(pk__lt=pk))
        else:
            after = Q(**{f"{field}__gte": value}) & (Q(**{f"{field}__gt": value}) | Q(pk__gt=pk))
        queryset = queryset.filter(after)
    sign = "-" if descending else ""
    rows = list(
        queryset.order_by(f"{sign}{field}", f"{sign}pk").values_list(field, "pk")[: size + 1]
    )
    next_url = None
    if len(rows) > size:
        value, pk = rows[size - 1]
        url = request.build_absolute_uri()
        next_url = replace_query_param(url, "cursor", _encode(ordering, value, pk))
    return [pk for _value, pk in rows[:size]], next_url
