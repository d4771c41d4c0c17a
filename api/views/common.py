"""What every API view shares: the parameter allowlist and the page response."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from api import pagination

PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description=_("From the `next` link of the page before.")),
    OpenApiParameter("limit", int, description=_("Rows per page, 1 to 100 (default 25).")),
]


def refuse_unknown(request, allowed) -> None:
    """A 400 naming any query parameter not in ``allowed``: nothing else reaches a query.

    A NUL character is refused too: PostgreSQL cannot compare a text with one.
    """
    unknown = sorted(set(request.query_params) - set(allowed))
    if unknown:
        raise ValidationError({name: [_("Unknown parameter.")] for name in unknown})
    for name, values in request.query_params.lists():
        if any("\x00" in value for value in values):
            raise ValidationError({name: [_("Null characters are not allowed.")]})


def page_response(request, queryset, rows_for, serializer_class, *, orderings, default):
    """A cursor page: ids by keyset, then ``rows_for(ids)`` loads and orders the rows.

    ``serializer_class``: None when ``rows_for`` makes the dicts itself.
    """
    ids, next_url = pagination.page_ids(queryset, request, orderings=orderings, default=default)
    rows = rows_for(ids)
    if serializer_class is None:
        data = rows  # already what the serializer would make
    else:
        data = serializer_class(rows, many=True, context={"request": request}).data
    return Response({"next": next_url, "results": data})


def in_order(queryset, ids):
    """The rows of ``ids`` in that order (one query)."""
    by_id = queryset.in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]
