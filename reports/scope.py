"""Whose tickets a report counts, and the queue links that list exactly those tickets."""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404, QueryDict
from django.urls import reverse

from people.roles import is_agent, sees_all_pools
from reports.filters import drilldown_value
from reports.measures import Period
from tickets.filters import TicketFilter
from tickets.models import Pool, PoolMembership, Product, Topic

# The queue filters a report accepts and passes on to its links (an allowlist).
FILTER_PARAMS = (
    "pool", "topic", "product", "priority", "assignee", "tag", "organization", "sector",
    "requester", "channel",
)  # fmt: skip


@dataclass
class Scope:
    tickets: QuerySet
    params: dict[str, str]
    sees_all: bool
    filter: TicketFilter
    # The same selection as a filter on the daily roll-up; None when it filters on what the
    # roll-up does not keep (topic, product, tag...).
    days: Q | None = None

    def link(self, key: str, period: Period, **extra) -> str:
        """The queue listing the tickets the count ``key`` counts in ``period``."""
        query = {"tab": "all", **self.params, **extra, "report": drilldown_value(key, period)}
        return f"{reverse('tickets:queue')}?{urlencode(query)}"


def scope_for(request) -> Scope:
    """Supervisors and admins: every ticket, as filtered. An agent: the tickets assigned to
    them in what they may see, whatever they ask. Anyone else: not found."""
    if not is_agent(request.user):
        raise Http404
    return scope_of(request.user, request.GET)


def scope_of(user, data) -> Scope:
    """The scope of ``user`` (an agent) with the filters in ``data`` (a mapping of strings):
    for a page, and for a saved report mailed to its readers."""
    sees_all = sees_all_pools(user)
    params = {name: str(value) for name in FILTER_PARAMS if (value := data.get(name, ""))}
    if not sees_all:
        params["assignee"] = str(user.pk)
    mine = PoolMembership.objects.filter(pool=OuterRef("pk"), user=user)
    pools = list(Pool.objects.all() if sees_all else Pool.objects.filter(Exists(mine)))
    data = QueryDict(mutable=True)
    data.update(params)
    ticket_filter = TicketFilter(
        data,
        user=user,
        queryset=_visible(user),
        pools=pools,
        topics=list(Topic.objects.all()),
        products=list(Product.objects.all()),
    )
    # A value the filter refuses (a pool the agent is not in) is ignored, as the queue
    # ignores it: dropped from the links too, so they list what the figures count.
    errors = ticket_filter.form.errors if ticket_filter.is_bound else {}
    params = {name: value for name, value in params.items() if name not in errors}
    return Scope(
        tickets=ticket_filter.qs,
        params=params,
        sees_all=sees_all,
        filter=ticket_filter,
        days=_days(params, sees_all, pools),
    )


def _days(params: dict, sees_all: bool, pools) -> Q | None:
    """The roll-up rows of the tickets the scope selects, when a pool and an agent say it:
    an agent's are theirs in their pools (their assignee filter is forced above)."""
    if set(params) - {"pool", "assignee"}:
        return None
    days = Q()
    if "pool" in params:
        days &= Q(pool_key=int(params["pool"]))
    if "assignee" in params:
        days &= Q(assignee_key=int(params["assignee"]))
    if not sees_all:
        days &= Q(pool_key__in=[pool.pk for pool in pools])
    return days


def _visible(user):
    from tickets.models import Ticket

    return Ticket.objects.visible_to(user)
