"""Who else has a ticket open: a soft warning, not a lock."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from tickets.models import TicketPresence
from tickets.services.audit import announce
from tickets.signals import presence_changed


def others_on_ticket(ticket, *, user) -> list[TicketPresence]:
    """The other agents who had this ticket open within the freshness window."""
    fresh_since = timezone.now() - timedelta(seconds=settings.TICKET_PRESENCE_SECONDS)
    return list(
        TicketPresence.objects.filter(ticket=ticket, seen_at__gte=fresh_since)
        .exclude(user=user)
        .select_related("user")
        .order_by("user__username")
    )


def mark_presence(ticket, *, user, is_replying: bool = False) -> list[TicketPresence]:
    """Record that ``user`` is on the ticket (replying or not); returns the others on it.

    Announces ``presence_changed`` when the mark is new (none, or gone stale) or its replying
    flag changed; a mere refresh announces nothing, so the pages that refresh on the event
    never answer each other in a loop.
    """
    now = timezone.now()
    fresh_since = now - timedelta(seconds=settings.TICKET_PRESENCE_SECONDS)
    before = TicketPresence.objects.filter(ticket=ticket, user=user).first()
    TicketPresence.objects.update_or_create(
        ticket=ticket, user=user, defaults={"seen_at": now, "is_replying": is_replying}
    )
    if before is None or before.seen_at < fresh_since or before.is_replying != is_replying:
        announce(presence_changed, ticket=ticket, user=user, is_replying=is_replying)
    return others_on_ticket(ticket, user=user)


def purge_stale_presence() -> int:
    """Delete marks older than the freshness window; safe to run any time, twice."""
    cutoff = timezone.now() - timedelta(seconds=settings.TICKET_PRESENCE_SECONDS * 4)
    deleted, _ = TicketPresence.objects.filter(seen_at__lt=cutoff).delete()
    return deleted
