"""What a request may reach: its owner's tickets and pools, narrowed to the token's pools.

Every view starts from these; a ticket, attachment or answer outside them is "not found".
"""

from django.db.models import Exists, OuterRef
from django.http import Http404

from api.services import token_pool_ids
from people.models import Contact
from people.roles import sees_all_pools
from tickets.models import Attachment, Pool, Ticket


def pool_ids_of(request) -> list[int]:
    """The token's pools (empty: no narrowing beyond the owner's own)."""
    return token_pool_ids(request.auth)


def tickets_for(request, *, base=None):
    """The tickets the owner sees (their pools, those they cover), in the token's pools;
    ``base``: a queryset of tickets to narrow instead of all of them (e.g. ``values()``)."""
    tickets = (Ticket.objects.all() if base is None else base).visible_to(request.user)
    pools = pool_ids_of(request)
    if pools:
        tickets = tickets.filter(pool_id__in=pools)
    return tickets


def pools_for(request):
    """The pools the owner works in, narrowed to the token's."""
    pools = Pool.objects.usable_by(request.user)
    narrowed = pool_ids_of(request)
    if narrowed:
        pools = pools.filter(pk__in=narrowed)
    return pools


def ticket_for(request, number: str) -> Ticket:
    """The ticket ``number`` if this request may reach it (else 404)."""
    return _the_one(tickets_for(request), number)


def ticket_values(request, number: str, *, base) -> dict:
    """The ``values()`` row of ``base`` (a values() queryset of tickets) for the ticket
    ``number`` if this request may reach it (else 404)."""
    return _the_one(tickets_for(request, base=base), number)


def _the_one(tickets, number: str):
    if "\x00" in number or len(number) > 20:
        raise Http404
    found = list(tickets.filter(number=number)[:1])  # the number is unique
    if not found:
        raise Http404
    return found[0]


def attachment_for(request, number: str, attachment_id: int) -> Attachment:
    ticket = ticket_for(request, number)
    attachment = Attachment.objects.filter(pk=attachment_id, ticket=ticket).first()
    if attachment is None:
        raise Http404
    return attachment


def contacts_for(request):
    """The customers this request may reach: for a token that sees every pool, all of them;
    else those with a ticket in reach, and those with no ticket yet (a caller the phone
    system looks up, a contact just made). A customer known only from other pools' tickets
    is not found: that a person writes to another team is theirs to know."""
    if sees_all_pools(request.user) and not pool_ids_of(request):
        return Contact.objects.all()
    reachable = tickets_for(request).filter(requester=OuterRef("pk"))
    any_ticket = Ticket.objects.filter(requester=OuterRef("pk"))
    return Contact.objects.filter(Exists(reachable) | ~Exists(any_ticket))
