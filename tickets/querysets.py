"""Reads on tickets, written as filters: ``Ticket.objects.visible_to(user).open()``."""

from collections.abc import Sequence

from django.db import connections, models
from django.db.models import Q
from django.utils import timezone

from people.models import Absence
from people.roles import is_agent, sees_all_pools
from tickets.states import OPEN_STATUSES, Status


class TicketQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def waiting(self):
        """Nobody has these yet: what Next ticket hands out."""
        return self.filter(status=Status.NEW, assignee__isnull=True)

    def in_pools(self, pool_ids):
        return self.filter(pool_id__in=pool_ids)

    def visible_to(self, user, now=None):
        """The only way agents reach tickets: their pools, plus the work of agents they cover.

        Supervisors and admins see every pool. Anyone else sees nothing. Built from
        subqueries so it costs no extra round trip.
        """
        if not is_agent(user):
            return self.none()
        if sees_all_pools(user):
            return self
        from tickets.models import PoolMembership

        my_pools = PoolMembership.objects.filter(user=user).values("pool_id")
        covered = (
            Absence.objects.current(now or timezone.now())
            .filter(substitute=user)
            .values("agent_id")
        )
        return self.filter(Q(pool_id__in=my_pools) | Q(assignee_id__in=covered))

    def visible_to_contact(self, contact):
        """A customer's tickets: their own, and their organization's when it shares them."""
        if contact is None:
            return self.none()
        mine = Q(requester=contact)
        organization = contact.organization
        if organization is not None and organization.share_tickets:
            mine |= Q(requester__organization=organization)
        return self.filter(mine)

    def page_ids(self, start: int, stop: int, *, merge_pools: Sequence[int] = ()) -> list[int]:
        """The ids of rows ``start`` to ``stop`` in this queryset's order (which ends in "id").

        ``merge_pools``: pool ids that hold every row. Where the database allows LIMIT inside
        a UNION (PostgreSQL), each pool's rows then come from their own index scan, merged in
        order: over an IN list of pools, PostgreSQL would read and sort every match first.
        """
        order = [name for name in self.query.order_by if isinstance(name, str)]
        columns = [name.lstrip("-") for name in order]
        mergeable = len(order) == len(self.query.order_by) and "id" in columns
        features = connections[self.db].features
        if (
            len(merge_pools) < 2
            or not mergeable
            or not features.supports_slicing_ordering_in_compound
        ):
            return list(self.values_list("pk", flat=True)[start:stop])
        parts = [self.filter(pool_id=pool).values_list(*columns)[:stop] for pool in merge_pools]
        merged = parts[0].union(*parts[1:], all=True).order_by(*order)[start:stop]
        position = columns.index("id")
        return [row[position] for row in merged]

    def for_list(self):
        """What a queue row shows, but its pool, topic and product (the queue view has those)."""
        return self.select_related("assignee", "requester").prefetch_related("tags")
