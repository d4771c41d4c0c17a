"""The agent's queue and the Next ticket button."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from people.decorators import agent_required
from people.roles import is_junior, sees_all_pools
from tickets.filters import TicketFilter
from tickets.models import Pool, PoolMembership, Product, Ticket, Topic
from tickets.services import pull_next_ticket, returned_replies_of
from tickets.views.paging import page_of

TABS = {
    "mine": gettext_lazy("My tickets"),
    "waiting": gettext_lazy("Waiting in my pools"),
    "watched": gettext_lazy("Watched"),
    "all": gettext_lazy("All"),
}


def _tab_queryset(tab: str, user, visible, my_pool_ids: list[int]):
    if tab == "mine":
        return visible.filter(assignee=user).open()
    if tab == "waiting":
        # The user's own pools: within what visible_to() allows, and without its OR, which
        # would make PostgreSQL visit every row instead of reading the waiting index alone.
        return Ticket.objects.waiting().in_pools(my_pool_ids)
    if tab == "watched":
        return visible.filter(watchers=user)
    return visible


COUNT_LIMIT = 1000
RETURNED_SHOWN = 5
WAITING_ORDER = ("-priority", "created_at", "id")


def _page_rows(ids: list[int], catalogs: list[list]) -> list[Ticket]:
    """Only the page's rows, with their requester, technician and tags. Joining them in the
    query that picks the page would join every match before the LIMIT."""
    by_id = Ticket.objects.filter(pk__in=ids).for_list().in_bulk()
    rows = [by_id[pk] for pk in ids if pk in by_id]
    # Pool, topic and product come from the lists the filter form loaded anyway: three more
    # joins would cost PostgreSQL more planning time than the whole query takes to run.
    pools, topics, products = ({item.pk: item for item in items} for items in catalogs)
    for ticket in rows:
        ticket.pool = pools[ticket.pool_id]
        ticket.topic = topics.get(ticket.topic_id)
        ticket.product = products.get(ticket.product_id)
    return rows


def _bounded_count(queryset) -> str:
    """Count up to a limit ("999+"): an exact count of 100,000 rows costs more than it tells.
    Unordered, so the database stops at the limit instead of sorting every match first."""
    count = queryset.order_by()[:COUNT_LIMIT].count()
    return f"{COUNT_LIMIT - 1}+" if count >= COUNT_LIMIT else str(count)


def _catalogs(user) -> list[list]:
    """Every pool (``is_mine`` if the user is a member), topic and product."""
    mine = PoolMembership.objects.filter(pool=OuterRef("pk"), user=user)
    pools = Pool.objects.annotate(is_mine=Exists(mine))
    return [list(pools), list(Topic.objects.all()), list(Product.objects.all())]


@login_required
@agent_required
def queue(request):
    user, sees_all = request.user, sees_all_pools(request.user)
    tab = request.GET.get("tab") or "mine"
    # A report's drill-down lists what it counted: all the tickets the user may see (for an
    # agent, their pools), filtered as the figure was.
    drilldown = bool(request.GET.get("report"))
    if tab not in TABS or (tab == "all" and not sees_all and not drilldown):
        tab = "mine"
    catalogs = _catalogs(user)
    pools, topics, products = catalogs
    my_pool_ids = [pool.pk for pool in pools if pool.is_mine]
    visible = Ticket.objects.visible_to(user)
    ticket_filter = TicketFilter(
        request.GET,
        user=user,
        queryset=_tab_queryset(tab, user, visible, my_pool_ids),
        pools=pools if sees_all else [pool for pool in pools if pool.is_mine],
        topics=topics,
        products=products,
    )
    tickets, merge_pools = ticket_filter.qs, []
    if not request.GET.get("ordering"):
        if tab == "waiting":
            tickets = tickets.order_by(*WAITING_ORDER)
            chosen = ticket_filter.form.cleaned_data.get("pool")
            merge_pools = [chosen.pk] if chosen else my_pool_ids
        else:
            tickets = tickets.order_by("-created_at")
    # Bounded pagination: one extra row tells whether there is a next page, so no
    # COUNT(*) over a million rows.
    paged = page_of(
        request,
        lambda start, stop: tickets.page_ids(start, stop, merge_pools=merge_pools),
        settings.QUEUE_PAGE_SIZE,
    )
    context = {
        **paged,
        "tab": tab,
        "tabs": [(key, label) for key, label in TABS.items() if key != "all" or sees_all],
        "filter": ticket_filter,
        "tickets": _page_rows(paged["rows"], catalogs),
        "counts": {
            key: _bounded_count(_tab_queryset(key, user, visible, my_pool_ids))
            for key in ("mine", "waiting")
        },
        # A junior hears here, wherever they work, that a reply came back and why.
        "returned_replies": (
            list(returned_replies_of(user)[:RETURNED_SHOWN]) if is_junior(user) else []
        ),
        # Exact: the list must show the very number the report's figure showed.
        "matches": tickets.order_by().count() if drilldown else None,
    }
    return render(request, "tickets/ticket_queue.html", context)


@require_POST
@login_required
@agent_required
def next_ticket(request):
    ticket = pull_next_ticket(agent=request.user)
    if ticket is None:
        messages.info(request, _("Nothing is waiting in your pools right now."))
        return redirect("tickets:queue")
    messages.success(request, _("Ticket %(number)s is yours.") % {"number": ticket.number})
    return redirect(ticket)
