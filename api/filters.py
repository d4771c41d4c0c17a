"""The ticket list's filters: the queue's own (tickets.filters.TicketFilter), plus the
channel and the last change, with the pool choices narrowed to the token's pools.

Only these names reach the database; any other query parameter is refused with a 400.
"""

import django_filters
from django.utils.translation import gettext_lazy as _

from tickets.filters import TicketFilter
from tickets.states import Channel

FILTERS = (
    "q", "status", "pool", "topic", "product", "priority", "assignee", "tag", "channel",
    "created", "updated",
)  # fmt: skip
# The query parameters of the list (the ranges are sent as <name>_after / <name>_before).
PARAMETERS = frozenset(
    {"q", "status", "pool", "topic", "product", "priority", "assignee", "tag", "channel"}
    | {"created_after", "created_before", "updated_after", "updated_before"}
    | {"ordering", "cursor", "limit"}
)


class ApiTicketFilter(TicketFilter):
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=Channel.choices)
    updated = django_filters.DateFromToRangeFilter(
        label=_("Updated between"), field_name="updated_at"
    )

    def __init__(self, *args, user, pools, **kwargs):
        """``pools``: the pools this request may reach (the owner's, in the token's)."""
        super().__init__(*args, user=user, **kwargs)
        self.filters["pool"].queryset = pools
        # The queue's sort and the reports' drill-down are not API parameters: the cursor
        # sorts, from its own allowlist.
        for name in list(self.filters):
            if name not in FILTERS:
                del self.filters[name]
