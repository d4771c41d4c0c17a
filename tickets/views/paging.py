"""One way to page a list: no COUNT(*), one extra row tells whether a next page exists."""


def page_number(request) -> int:
    """The ``page`` asked for, 1 when it is missing or not a positive number."""
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


def page_of(request, rows, size: int) -> dict:
    """The asked-for page of ``rows`` as template context: ``rows``, ``page``, ``has_next``
    and ``querystring_without_page`` (the filters, for the Previous/Next links).

    ``rows`` is a queryset (or list), or ``fetch(start, stop)`` for a list read its own way.
    """
    page = page_number(request)
    fetch = rows if callable(rows) else lambda start, stop: rows[start:stop]
    found = list(fetch((page - 1) * size, page * size + 1))
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "rows": found[:size],
        "page": page,
        "has_next": len(found) > size,
        "querystring_without_page": query.urlencode(),
    }
