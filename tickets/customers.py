"""What an agent sees of a customer: their tickets, only those of the agent's pools.

Every read here goes through ``Ticket.objects.visible_to(user)``: a ticket of another pool
is neither listed nor counted, so nobody learns from a number that it exists.
"""

from dataclasses import dataclass, field

from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When, Window
from django.db.models.functions import Coalesce

from people.models import Contact
from people.services import find_contacts
from tickets.models import Ticket
from tickets.states import OPEN_STATUSES

CARD_TICKETS = 5


@dataclass
class TicketSummary:
    """A customer's tickets as one agent sees them: a few rows, and how many in all."""

    rows: list = field(default_factory=list)
    total: int = 0
    open: int = 0


def _open_first(queryset):
    return queryset.annotate(
        closed_rank=Case(
            When(status__in=OPEN_STATUSES, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
    ).order_by("closed_rank", "-created_at", "-pk")


def tickets_of_contact(contact: Contact, *, user):
    """The contact's tickets ``user`` may see, open ones first, newest first."""
    visible = Ticket.objects.visible_to(user).filter(requester=contact)
    return _open_first(visible).select_related("pool", "assignee")


def ticket_summary(contact: Contact, *, user, exclude: Ticket | None = None) -> TicketSummary:
    """Up to CARD_TICKETS of the contact's tickets (but ``exclude``) and the counts: one query.

    The counts ride along as window functions over the same rows, so the card costs one
    round trip whatever the number of tickets.
    """
    visible = Ticket.objects.visible_to(user).filter(requester=contact)
    if exclude is not None:
        visible = visible.exclude(pk=exclude.pk)
    rows = list(
        _open_first(visible)
        .annotate(
            total_count=Window(Count("pk")),
            open_count=Window(Count("pk", filter=Q(status__in=OPEN_STATUSES))),
        )
        .only("number", "subject", "status", "created_at", "pool_id")[:CARD_TICKETS]
    )
    if not rows:
        return TicketSummary()
    return TicketSummary(rows=rows, total=rows[0].total_count, open=rows[0].open_count)


def contact_counts(contact: Contact, *, user) -> TicketSummary:
    """How many of the contact's tickets ``user`` sees, and how many are open (one query)."""
    counts = (
        Ticket.objects.visible_to(user)
        .filter(requester=contact)
        .aggregate(total=Count("pk"), open=Count("pk", filter=Q(status__in=OPEN_STATUSES)))
    )
    return TicketSummary(total=counts["total"], open=counts["open"])


def search_contacts(query: str, *, user, limit: int = 10) -> list[Contact]:
    """Contacts matching ``query`` (name, address, number), each with ``open_count``: the
    open tickets ``user`` sees of theirs. Contacts are the helpdesk's customers, usable by
    every agent; their tickets are not."""
    visible_open = (
        Ticket.objects.visible_to(user)
        .open()
        .filter(requester=OuterRef("pk"))
        .order_by()
        .values("requester")
        .annotate(n=Count("pk"))
        .values("n")
    )
    found = find_contacts(query).annotate(
        open_count=Coalesce(Subquery(visible_open, output_field=IntegerField()), 0)
    )
    return list(found[:limit])
