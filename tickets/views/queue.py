"""The agent's queue and the Next ticket button."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef
from django.shortcuts import redirect, render
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from people.decorators import agent_required
from people.models import Absence
from people.roles import is_junior, sees_all_pools
from tickets.bulk import BulkActionForm, may_bulk_edit
from tickets.filters import TicketFilter
from tickets.models import Pool, PoolMembership, Product, Tag, Ticket, TicketStar, Topic
from tickets.querysets import agents_usable_by
from tickets.search import passages
from tickets.services import pull_next_ticket, returned_replies_of
from tickets.views.paging import page_of
from tickets.views.saved import saved_view_tabs, view_query

TABS = {
    "mine": gettext_lazy("My tickets"),
    "waiting": gettext_lazy("Waiting in my pools"),
    "watched": gettext_lazy("Watched"),
    "starred": gettext_lazy("Starred"),
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
    if tab == "starred":
        return visible.filter(stars__user=user)
    return visible


COUNT_LIMIT = 1000
RETURNED_SHOWN = 5
WAITING_ORDER = ("-priority", "created_at", "id")


def _page_rows(ids: list[int], catalogs: list[list], *, user) -> list[Ticket]:
    """Only the page's rows, with their requester, technician, tags and the user's star.
    Joining them in the query that picks the page would join every match before the LIMIT."""
    mine = TicketStar.objects.filter(ticket=OuterRef("pk"), user=user)
    rows_query = Ticket.objects.filter(pk__in=ids).for_list().annotate(is_starred=Exists(mine))
    by_id = rows_query.in_bulk()
    rows = [by_id[pk] for pk in ids if pk in by_id]
    # Pool, topic and product come from the lists the filter form loaded anyway: three more
    # joins would cost PostgreSQL more planning time than the whole query takes to run.
    pools, topics, products = ({item.pk: item for item in items} for items in catalogs[:3])
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
    """Every pool (``is_mine`` if the user is a member), topic and product, and the agents
    and tags the user may pick (the filter's and the bulk bar's selects share the lists)."""
    mine = PoolMembership.objects.filter(pool=OuterRef("pk"), user=user)
    pools = Pool.objects.annotate(is_mine=Exists(mine))
    return [
        list(pools),
        list(Topic.objects.all()),
        list(Product.objects.all()),
        list(agents_usable_by(user)),
        list(Tag.objects.visible_to(user)),
    ]


def _queue_filter(params, user, catalogs, base=None) -> tuple[str, TicketFilter]:
    """The tab and the filters of a queue query string (the page's, or a saved view's, then
    from the page's filters as ``base``)."""
    sees_all = sees_all_pools(user)
    tab = params.get("tab") or "mine"
    # A report's drill-down lists what it counted: all the tickets the user may see (for an
    # agent, their pools), filtered as the figure was.
    drilldown = bool(params.get("report"))
    if tab not in TABS or (tab == "all" and not sees_all and not drilldown):
        tab = "mine"
    pools, topics, products, agents, tags = catalogs
    my_pool_ids = [pool.pk for pool in pools if pool.is_mine]
    visible = Ticket.objects.visible_to(user)
    rows = _tab_queryset(tab, user, visible, my_pool_ids)
    if base is not None:
        return tab, base.with_params(params, rows)
    return tab, TicketFilter(
        params,
        user=user,
        queryset=rows,
        pools=pools if sees_all else [pool for pool in pools if pool.is_mine],
        topics=topics,
        products=products,
        agents=agents,
        tags=tags,
    )


@login_required
@agent_required
def queue(request):
    user, sees_all = request.user, sees_all_pools(request.user)
    catalogs = _catalogs(user)
    my_pool_ids = [pool.pk for pool in catalogs[0] if pool.is_mine]
    visible = Ticket.objects.visible_to(user)
    tab, ticket_filter = _queue_filter(request.GET, user, catalogs)
    drilldown = bool(request.GET.get("report"))
    tickets, merge_pools = ticket_filter.qs, []
    searching = "search_rank" in tickets.query.annotations
    if not request.GET.get("ordering"):
        if searching:
            tickets = tickets.order_by("-search_rank", "-created_at", "-id")
        elif tab == "waiting":
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
    rows = _page_rows(paged["rows"], catalogs, user=user)
    if searching:
        found = passages(rows, request.GET.get("q", ""))
        for ticket in rows:
            ticket.search_passage = found.get(ticket.pk)  # type: ignore[attr-defined]
    profile = getattr(user, "agent_profile", None)
    context = {
        **paged,
        "tab": tab,
        "tabs": [(key, label) for key, label in TABS.items() if key != "all" or sees_all],
        "filter": ticket_filter,
        "tickets": rows,
        "counts": {
            key: _bounded_count(_tab_queryset(key, user, visible, my_pool_ids))
            for key in ("mine", "waiting")
        },
        # A junior hears here, wherever they work, that a reply came back and why.
        "returned_replies": (
            list(returned_replies_of(user)[:RETURNED_SHOWN]) if is_junior(user) else []
        ),
        # What the search found among the rows the filters kept: exact up to the cap, then
        # "2,000+" (the newest are listed); never a ticket the user cannot see.
        "search_found": getattr(ticket_filter, "search_found", None) if searching else None,
        "search_cap": number_format(settings.SEARCH_CANDIDATES, force_grouping=True),
        "search_scan": number_format(settings.SEARCH_PHRASE_SCAN, force_grouping=True),
        # Exact: the list must show the very number the report's figure showed.
        "matches": tickets.order_by().count() if drilldown else None,
        "saved_views": saved_view_tabs(
            user,
            lambda params: _queue_filter(params, user, catalogs, ticket_filter)[1].qs,
            COUNT_LIMIT,
        ),
        "current_view": view_query(request.GET),
        "bulk": (
            BulkActionForm(
                user=user,
                pools=[p for p in catalogs[0] if p.active and (sees_all or p.is_mine)],
                agents=catalogs[3],
            )
            if may_bulk_edit(user)
            else None
        ),
        "compact": bool(profile and profile.compact_queue),
        "may_share": sees_all,
    }
    return render(request, "tickets/ticket_queue.html", context)


@require_POST
@login_required
@agent_required
def next_ticket(request):
    ticket = pull_next_ticket(agent=request.user)
    if ticket is None:
        absence = Absence.objects.current().filter(agent=request.user).first()
        if absence is not None:
            messages.warning(
                request,
                _(
                    "You are recorded as away until %(last_day)s, so Next ticket hands you "
                    "nothing; your substitute takes your work meanwhile."
                )
                % {"last_day": date_format(absence.last_day, "SHORT_DATE_FORMAT")},
            )
        else:
            messages.info(request, _("Nothing is waiting in your pools right now."))
        return redirect("tickets:queue")
    messages.success(request, _("Ticket %(number)s is yours.") % {"number": ticket.number})
    return redirect(ticket)
