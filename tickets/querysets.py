"""Reads on tickets, written as filters: ``Ticket.objects.visible_to(user).open()``."""

from collections.abc import Sequence

from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import connections, models
from django.db.models import Exists, OuterRef, Q
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
        my_pools = _my_pool_ids(user)
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


def _model(name: str):
    # The models import these querysets: look the model up in the registry instead of
    # importing it back (no import circle).
    return apps.get_model("tickets", name)


def _my_pool_ids(user):
    return _model("PoolMembership").objects.filter(user=user).values("pool_id")


class PoolQuerySet(models.QuerySet):
    def usable_by(self, user):
        """The pools ``user`` works in: every pool for supervisors, their memberships otherwise."""
        if not is_agent(user):
            return self.none()
        if sees_all_pools(user):
            return self
        return self.filter(pk__in=_my_pool_ids(user))


class TagQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Tags on tickets of ``user``'s pools: a tag used only elsewhere says nothing to them."""
        if not is_agent(user):
            return self.none()
        if sees_all_pools(user):
            return self
        used = _model("Ticket").tags.through.objects.filter(
            tag_id=OuterRef("pk"), ticket__pool_id__in=_my_pool_ids(user)
        )
        return self.filter(Exists(used))


class CannedResponseQuerySet(models.QuerySet):
    def usable_by(self, user, pool_id):
        """What ``user`` may answer with on a ticket of ``pool_id``: their own responses, the
        ones shared with that pool, and the ones shared with everyone (never another agent's
        private response or another pool's, whose files would go out with the reply)."""
        return self.filter(
            Q(owner=user)
            | Q(owner__isnull=True, pool_id=pool_id)
            | Q(owner__isnull=True, pool__isnull=True)
        )


def active_agents():
    """Every active agent, by name."""
    return (
        get_user_model()
        .objects.filter(is_active=True, agent_profile__isnull=False)
        .order_by("first_name", "username")
    )


def agents_who_see_pool(pool_id):
    """Active agents who see the tickets of ``pool_id``: its members and those who see all."""
    from people.roles import sees_all_pools_q

    sees = Q(pool_memberships__pool_id=pool_id) | Q(is_superuser=True) | sees_all_pools_q()
    return active_agents().filter(pk__in=get_user_model().objects.filter(sees).values("pk"))


def agents_usable_by(user):
    """The agents ``user`` may pick in a filter: of their pools (everyone for supervisors)."""
    if not is_agent(user):
        return get_user_model().objects.none()
    if sees_all_pools(user):
        return active_agents()
    # As visible_to: the agents they cover right now too (their tickets are in the queue).
    covered = Absence.objects.current(timezone.now()).filter(substitute=user).values("agent_id")
    members = get_user_model().objects.filter(pool_memberships__pool_id__in=_my_pool_ids(user))
    return active_agents().filter(Q(pk__in=members.values("pk")) | Q(pk__in=covered))
