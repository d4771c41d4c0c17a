"""The agent's queue and the Next ticket button."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from people.roles import sees_all_pools
from tickets.filters import TicketFilter
from tickets.models import Pool, PoolMembership, Ticket
from tickets.services import pull_next_ticket
from tickets.views.decorators import agent_required

TABS = {
    "mine": gettext_lazy("My tickets"),
    "waiting": gettext_lazy("Waiting in my pools"),
    "watched": gettext_lazy("Watched"),
    "all": gettext_lazy("All"),
}


def _tab_queryset(tab: str, user, visible):
    if tab == "mine":
        return visible.filter(assignee=user).open()
    if tab == "waiting":
        return visible.waiting().in_pools(PoolMembership.objects.filter(user=user).values("pool"))
    if tab == "watched":
        return visible.filter(watchers=user)
    return visible


COUNT_LIMIT = 1000


def _page_rows(tickets, *, start: int, stop: int) -> list[Ticket]:
    """One page: the ids first (a narrow, index-friendly query), then only those rows with
    their pool, requester, tags... Joining first would join every match before the LIMIT."""
    ids = list(tickets.values_list("pk", flat=True)[start:stop])
    by_id = Ticket.objects.filter(pk__in=ids).for_list().in_bulk()
    return [by_id[pk] for pk in ids if pk in by_id]


def _bounded_count(queryset) -> str:
    """Count up to a limit ("999+"): an exact count of 100,000 rows costs more than it tells."""
    count = queryset[:COUNT_LIMIT].count()
    return f"{COUNT_LIMIT - 1}+" if count >= COUNT_LIMIT else str(count)


def _page_number(request) -> int:
    try:
        return max(1, int(request.GET.get("page", "1")))
    except ValueError:
        return 1


@login_required
@agent_required
def queue(request):
    user = request.user
    tab = request.GET.get("tab") or "mine"
    if tab not in TABS or (tab == "all" and not sees_all_pools(user)):
        tab = "mine"
    visible = Ticket.objects.visible_to(user)
    pools = (
        Pool.objects.all() if sees_all_pools(user) else Pool.objects.filter(memberships__user=user)
    )
    ticket_filter = TicketFilter(
        request.GET, queryset=_tab_queryset(tab, user, visible), pools=pools
    )
    tickets = ticket_filter.qs
    if not request.GET.get("ordering"):
        tickets = (
            tickets.order_by("-priority", "created_at")
            if tab == "waiting"
            else tickets.order_by("-created_at")
        )
    # Bounded pagination: one extra row tells whether there is a next page, so no
    # COUNT(*) over a million rows.
    size, page = settings.QUEUE_PAGE_SIZE, _page_number(request)
    rows = _page_rows(tickets, start=(page - 1) * size, stop=page * size + 1)
    context = {
        "tab": tab,
        "tabs": [
            (key, label) for key, label in TABS.items() if key != "all" or sees_all_pools(user)
        ],
        "filter": ticket_filter,
        "tickets": rows[:size],
        "page": page,
        "has_next": len(rows) > size,
        "counts": {
            "mine": _bounded_count(_tab_queryset("mine", user, visible)),
            "waiting": _bounded_count(_tab_queryset("waiting", user, visible)),
        },
        "querystring_without_page": _without_page(request),
    }
    return render(request, "tickets/ticket_queue.html", context)


def _without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


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
