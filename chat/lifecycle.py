"""A conversation's life: a resolved chat closes after a quiet time; a later message
reopens it or starts a new ticket, per channel.

- ``close_quiet_chats`` (beat, queue ``periodic``): one query finds the resolved chat
  tickets whose channel's quiet time (``ChatChannel.close_resolved_after``, minutes) has
  passed since they were resolved; each is closed through the status machine (locked,
  logged in the ticket's activity, announced), and their conversations marked closed.
- ``ticket_for_message``: where a customer's new message goes. An open ticket takes it; a
  resolved or closed one is reopened when the channel reopens and the message comes within
  ``reopen_within_days`` of the resolution (empty: always); otherwise a new ticket, linked
  to the old one so the agent sees the history.
"""

import logging
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from chat.models import ChatChannel, Conversation
from tickets.models import Ticket
from tickets.services.lifecycle import change_status
from tickets.states import Status

logger = logging.getLogger(__name__)

QUIET_CLOSE_REASON = gettext_noop(
    "Closed automatically: the chat stayed quiet after it was resolved."
)
LATER_CHAT_REASON = gettext_noop(
    "The customer wrote again on the same chat after this conversation had ended."
)


def quiet_chats_due(now: datetime) -> list[Ticket]:
    """Resolved chat tickets whose channel's quiet time is over (one query for all channels)."""
    rules = ChatChannel.objects.filter(close_resolved_after__isnull=False).values_list(
        "pk", "close_resolved_after"
    )
    due = Q()
    for channel_id, minutes in rules:
        due |= Q(
            conversations__channel_id=channel_id,
            resolved_at__lte=now - timedelta(minutes=minutes or 0),
        )
    if not due:
        return []
    rows = (
        Ticket.objects.filter(due, status=Status.RESOLVED).distinct().order_by("resolved_at", "pk")
    )
    return list(rows)


def close_quiet_chats(now: datetime | None = None) -> list[Ticket]:
    """Close every resolved chat whose quiet time is over; the tickets closed.

    Safe to run twice or from two beats at once: each ticket is locked and checked again
    (a customer who wrote meanwhile reopened it, so it is no longer resolved).
    """
    now = now or timezone.now()
    closed = []
    for ticket in quiet_chats_due(now):
        with transaction.atomic():
            current = Ticket.objects.select_for_update().get(pk=ticket.pk)
            if current.status != Status.RESOLVED or current.resolved_at != ticket.resolved_at:
                continue
            try:
                current = change_status(
                    current, to=Status.CLOSED, actor=None, reason=QUIET_CLOSE_REASON
                )
            except ValidationError:
                logger.exception("chat ticket %s could not be closed", ticket.number)
                continue
            closed.append(current)
    if closed:
        Conversation.objects.filter(ticket__in=closed).update(state=Conversation.State.CLOSED)
    return closed


def _followed(ticket: Ticket | None) -> Ticket | None:
    """The ticket itself, or the one it was merged into (followed to the end)."""
    seen = set()
    while ticket is not None and ticket.merged_into_id and ticket.pk not in seen:
        seen.add(ticket.pk)
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
    return ticket


def ticket_for_message(
    conversation: Conversation, *, now: datetime | None = None
) -> tuple[Ticket | None, Ticket | None]:
    """(the ticket a new customer message joins, or None for a new ticket; the ticket a
    new one is linked to)."""
    ticket = _followed(conversation.ticket)
    if ticket is None:
        return None, None
    if ticket.status == Status.CANCELLED:
        return None, None
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        return ticket, None
    channel = conversation.channel
    if not channel.reopen_closed:
        return None, ticket
    if channel.reopen_within_days is not None:
        ended = ticket.resolved_at or ticket.closed_at
        now = now or timezone.now()
        if ended is not None and ended < now - timedelta(days=channel.reopen_within_days):
            return None, ticket
    return ticket, None
