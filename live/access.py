"""Which topics a browser may subscribe to, decided on the server for every stream.

A signed-in user always gets ``user:<id>``; an agent also gets ``pool:<id>`` for each pool
they work in (every pool for those who see all pools). Anything else is asked for in the
stream's query string, ``?<kind>=<key>``, and allowed only by the rule registered for that
kind: ``ticket`` here (agents who may see the ticket), ``conversation`` by the chat app.
"""

import re
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from people.roles import is_agent, sees_all_pools
from tickets.models import Pool, PoolMembership, Ticket

# rule(request, key) -> whether request's browser may follow "<kind>:<key>". Rules run in
# a thread (they may query the database); request.user may be anonymous (a chat visitor).
Rule = Callable[[HttpRequest, str], bool]

KEY = re.compile(r"[A-Za-z0-9_.\-]{1,150}")
_rules: dict[str, Rule] = {}


def register(kind: str, rule: Rule) -> None:
    """Let a browser follow ``<kind>:<key>`` by asking ``/live/stream/?<kind>=<key>``, when
    ``rule(request, key)`` is true. Call it from your app's ``ready()``."""
    if not re.fullmatch(r"[a-z_]+", kind) or kind in ("user", "pool", "last_event_id"):
        raise ValueError(f"cannot register live topics of kind {kind!r}")
    _rules[kind] = rule


def pool_topic(pool_id: int) -> str:
    return f"pool:{pool_id}"


def user_topic(user_id: int) -> str:
    return f"user:{user_id}"


def ticket_topic(number: str) -> str:
    return f"ticket:{number}"


def default_topics(user) -> list[str]:
    """What a signed-in user follows on every page."""
    if not user.is_authenticated:
        return []
    topics = [user_topic(user.pk)]
    if is_agent(user):
        if sees_all_pools(user):
            pool_ids = list(Pool.objects.values_list("pk", flat=True))
        else:
            pool_ids = list(
                PoolMembership.objects.filter(user=user).values_list("pool_id", flat=True)
            )
        topics += [pool_topic(pk) for pk in pool_ids]
    return topics


def topics_for(request: HttpRequest) -> list[str]:
    """The topics of ``request``'s stream; PermissionDenied if it asks for one it may not see."""
    topics = default_topics(request.user)
    for kind, rule in _rules.items():
        for key in request.GET.getlist(kind):
            if not KEY.fullmatch(key) or not rule(request, key):
                raise PermissionDenied(f"may not follow {kind}:{key}")
            topics.append(f"{kind}:{key}")
    return topics


def _may_see_ticket(request: HttpRequest, number: str) -> bool:
    return Ticket.objects.visible_to(request.user).filter(number=number).exists()


def register_builtin_rules() -> None:
    register("ticket", _may_see_ticket)
