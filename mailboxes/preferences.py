"""Agents' own choices for the mail about them, and who reads it while they are away.

The five topics (``NotificationPreference.Topic``) are each agent's to choose: off, at once,
or in their digest. How they meet the admins' ``NotificationRule``:

- mail to the requester is the rule's alone;
- for an event that is one of the topics ("new ticket in my pools", "customer replied on
  my ticket"), the agents it is about (the pool's members; the technician) get it as their
  own choice says, whether or not a rule names them: with the defaults nobody hears of
  every new ticket. Others the rule names (supervisors, manager, watchers) get it at once;
- for the other events (taken, resolved, cancelled...) the agents the rule names get it at
  once; assignment, mentions and SLA warnings have no rule: only the choice counts.

While an agent's approved absence covers now they get nothing: their substitute gets at
once what they would have got (at once or in their digest), whatever the substitute chose
for themselves; with no substitute, nobody does. A substitute who is away too hands it on
to their own substitute, up to ``MAX_HANDOVERS`` steps (a circle of substitutes who are all
away reaches nobody).
"""

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from mailboxes.models import NotificationPreference, PendingNotification
from people.models import Absence
from tickets.models import Ticket

logger = logging.getLogger(__name__)

Topic = NotificationPreference.Topic
Delivery = NotificationPreference.Delivery

# How far a notice follows substitutes who are away themselves.
MAX_HANDOVERS = 3


def preferences_of(user_ids: Iterable[int]) -> dict[int, NotificationPreference]:
    """Each user's choices in one query; the defaults (an unsaved row) for users without."""
    user_ids = set(user_ids)
    rows = NotificationPreference.objects.filter(user_id__in=user_ids) if user_ids else []
    found = {row.user_id: row for row in rows}
    return {pk: found.get(pk) or NotificationPreference(user_id=pk) for pk in user_ids}


def absences_of(user_ids: Iterable[int], now: datetime) -> dict[int, Absence]:
    """The approved absence covering ``now`` of each user who has one, with the substitute
    (and their profile, for the language) in the same query."""
    user_ids = set(user_ids)
    if not user_ids:
        return {}
    rows = (
        Absence.objects.current(now)
        .filter(agent_id__in=user_ids)
        .select_related("substitute__agent_profile")
        .order_by("-starts_at")
    )
    return {row.agent_id: row for row in rows}


def absences_along(user_ids: Iterable[int], now: datetime) -> dict[int, Absence]:
    """``absences_of`` the users, and of their substitutes who are away too, and so on:
    one query per step, at most ``MAX_HANDOVERS`` more."""
    away = absences_of(user_ids, now)
    for _step in range(MAX_HANDOVERS):
        more = {a.substitute_id for a in away.values() if a.substitute_id} - set(away)
        found = absences_of(more, now) if more else {}
        if not found:
            break
        away.update(found)
    return away


def reader_of(user, away: dict[int, Absence]):
    """Who reads what ``user`` would: them, or the first substitute along who is not away;
    None when the chain ends with nobody (no substitute, or longer than allowed)."""
    reader = user
    for _step in range(MAX_HANDOVERS + 1):
        absence = away.get(reader.pk)
        if absence is None:
            return reader
        reader = absence.substitute
        if reader is None or reader.pk == user.pk:
            return None
    return None


@dataclass
class AgentNotice:
    """One thing one agent may hear of: ``topic`` None is a rule's mail (always at once)."""

    user: Any
    ticket: Ticket
    topic: str | None = None
    detail: str = ""


@dataclass
class Delivered:
    """Who reads a notice now: the agent, or their substitute (``on_behalf_of`` the agent)."""

    notice: AgentNotice
    reader: Any
    on_behalf_of: Any = None


def plan_deliveries(
    notices: list[AgentNotice], *, actor=None, now: datetime | None = None
) -> list[Delivered]:
    """The notices to mail now, and the digest rows of the rest (inserted here).

    Set-based: two queries for the whole list (choices and absences) and one INSERT for
    the digest rows, whatever its length. Nobody is told of what they did themselves, and
    a reader gets one mail per ticket however many notices name them. Not idempotent:
    each call stores its digest rows.
    """
    now = now or timezone.now()
    actor_id = getattr(actor, "pk", None)
    notices = [notice for notice in notices if notice.user.pk != actor_id]
    if not notices:
        return []
    user_ids = {notice.user.pk for notice in notices}
    choices = preferences_of(user_ids)
    away = absences_along(user_ids, now)
    delivered: list[Delivered] = []
    pending: list[PendingNotification] = []
    seen: set[tuple[int, int]] = set()
    for notice in notices:
        user = notice.user
        delivery = choices[user.pk].delivery(notice.topic) if notice.topic else Delivery.IMMEDIATE
        if delivery == Delivery.OFF:
            continue
        reader, on_behalf_of = user, None
        if user.pk in away:
            reader, on_behalf_of = reader_of(user, away), user
            if reader is None or not reader.is_active or reader.pk == actor_id:
                continue
        elif delivery == Delivery.DIGEST and notice.topic:
            pending.append(
                PendingNotification(
                    user_id=user.pk,
                    topic=notice.topic,
                    ticket_id=notice.ticket.pk,
                    detail=notice.detail[:300],
                    created_at=now,
                )
            )
            continue
        if not reader.email or (reader.pk, notice.ticket.pk) in seen:
            continue
        seen.add((reader.pk, notice.ticket.pk))
        delivered.append(Delivered(notice, reader, on_behalf_of))
    if pending:
        PendingNotification.objects.bulk_create(pending)
    return delivered


def fold_bursts(delivered: list[Delivered]) -> tuple[list[Delivered], list[list[Delivered]]]:
    """Split deliveries into single mails and bursts: whoever would get
    ``NOTIFICATION_BURST_SIZE`` or more mails from one call (a flood of mail routed to them,
    a bulk assignment) gets one mail listing them instead, in the order they came.

    Grouped by reader and by whom they stand in for, so a burst never mixes the two.
    ``NOTIFICATION_BURST_SIZE`` 0 folds nothing.
    """
    size = settings.NOTIFICATION_BURST_SIZE
    groups: dict[tuple[int, int | None], list[Delivered]] = {}
    for item in delivered:
        key = (item.reader.pk, getattr(item.on_behalf_of, "pk", None))
        groups.setdefault(key, []).append(item)
    bursts = [items for items in groups.values() if size and len(items) >= size]
    folded = {id(item) for items in bursts for item in items}
    return [item for item in delivered if id(item) not in folded], bursts


def readers_of(
    users: list, ticket: Ticket, topic: str | None, *, now: datetime | None = None, detail=""
) -> list[tuple[Any, Any]]:
    """(reader, on behalf of) for a few users told of one ticket (the SLA sweep's mail)."""
    notices = [AgentNotice(user, ticket, topic, detail) for user in users if user is not None]
    return [(item.reader, item.on_behalf_of) for item in plan_deliveries(notices, now=now)]


def render_each(
    delivered: list[Delivered], render: Callable[[Delivered], Any]
) -> list[tuple[Delivered, Any]]:
    """``render`` each delivery; one that fails is logged and costs only its own mail."""
    rendered = []
    for item in delivered:
        try:
            rendered.append((item, render(item)))
        except Exception:
            logger.exception(
                "notification to user %s on ticket %s failed", item.reader.pk, item.notice.ticket.pk
            )
    return rendered


def save_preferences(user, choices: dict[str, str], *, digest_period: str):
    """Store an agent's choices (their row made on first save); returns the row."""
    fields = {topic: choices[topic] for topic in Topic.values if topic in choices}
    row, _created = NotificationPreference.objects.update_or_create(
        user=user, defaults={**fields, "digest_period": digest_period}
    )
    return row
