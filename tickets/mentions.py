"""Who an internal note mentions: ``@username`` or ``@"First Last"``.

Only agents who may open the note's ticket count (its pool's members and those who see
every pool): a mention never tells anyone else what the ticket is about.
"""

import re
from collections.abc import Iterable

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, Value
from django.db.models.functions import Concat, Lower

from people.roles import sees_all_pools_q
from tickets.models import Message, PoolMembership

# After a start, a space or an opening bracket, so mail addresses (a@b.com) never match.
_MENTION = re.compile(r'(?:^|(?<=[\s(\[]))@(?:"([^"\n]{1,150})"|([\w.+-]{1,150}))', re.UNICODE)


def mention_names(text: str) -> tuple[set[str], set[str]]:
    """The usernames and the quoted full names a text mentions, lower-cased."""
    usernames: set[str] = set()
    full_names: set[str] = set()
    for quoted, plain in _MENTION.findall(text or ""):
        if quoted:
            full_names.add(" ".join(quoted.split()).lower())
        else:
            usernames.add(plain.rstrip(".").lower())
    return usernames, full_names


def mentioned_agents(notes: Iterable[Message]) -> dict[int, list]:
    """Note id → the agents it mentions who may see its ticket, in two queries for all notes.

    The author is left out (nobody is told of their own note); users carry their agent
    profile, for their language.
    """
    notes = [note for note in notes if note.kind == Message.Kind.NOTE]
    wanted = {note.pk: mention_names(note.body_text) for note in notes}
    usernames = set().union(*(names for names, _full in wanted.values()))
    full_names = set().union(*(full for _names, full in wanted.values()))
    if not usernames and not full_names:
        return {}
    users = list(
        get_user_model()
        .objects.filter(is_active=True, agent_profile__isnull=False)
        .annotate(
            lower_username=Lower("username"),
            lower_full_name=Lower(Concat("first_name", Value(" "), "last_name")),
        )
        .filter(Q(lower_username__in=usernames) | Q(lower_full_name__in=full_names))
        .annotate(sees_all=Exists(_all_pool_users()))
        .select_related("agent_profile")
        .order_by("pk")
    )
    if not users:
        return {}
    pools = {note.ticket.pool_id for note in notes}
    members = set(
        PoolMembership.objects.filter(
            user_id__in=[user.pk for user in users], pool_id__in=pools
        ).values_list("user_id", "pool_id")
    )
    found: dict[int, list] = {}
    for note in notes:
        names, full = wanted[note.pk]
        pool_id = note.ticket.pool_id
        found[note.pk] = [
            user
            for user in users
            if (user.lower_username in names or user.lower_full_name in full)
            and user.pk != note.author_user_id
            and (user.sees_all or (user.pk, pool_id) in members)
        ]
    return found


def _all_pool_users():
    users = get_user_model().objects.filter(pk=OuterRef("pk"))
    return users.filter(sees_all_pools_q() | Q(is_superuser=True))
