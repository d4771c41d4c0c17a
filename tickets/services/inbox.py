"""Inbox niceties on tickets: an agent's stars, tags on single messages, quick replies.

Each takes a ticket the caller already fetched through ``get_ticket_for`` (the access
check); nothing here widens what an agent sees.
"""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.text import slugify
from django.utils.translation import gettext as _

from tickets.models import ActivityLog, CannedResponse, Message, MessageTag, Tag, Ticket, TicketStar
from tickets.services.audit import log_activity
from tickets.services.messages import render_canned_response

Action = ActivityLog.Action
QUICK_REPLIES_SHOWN = 8


# --- stars ----------------------------------------------------------------------------


def toggle_star(ticket: Ticket, *, user) -> bool:
    """Star the ticket for ``user``, or unstar it if it was; True when it is starred now.

    Safe to run twice at once: the unique constraint keeps one row, and a lost race to
    insert means the other request starred it.
    """
    deleted, _rows = TicketStar.objects.filter(ticket=ticket, user=user).delete()
    if deleted:
        return False
    TicketStar.objects.bulk_create([TicketStar(ticket=ticket, user=user)], ignore_conflicts=True)
    return True


# --- tags on messages -----------------------------------------------------------------


@transaction.atomic
def add_message_tag(message: Message, *, name: str, actor) -> MessageTag | None:
    """Tag one message (an existing tag, or a new one); logs it on the ticket.

    None when the message had the tag already; a name that is no tag (empty, only
    punctuation) is refused.
    """
    slug = slugify(name.strip(), allow_unicode=True)[:50]
    if not slug:
        raise ValidationError(_("Give the tag a name (letters, digits, dashes)."))
    tag, _created = Tag.objects.get_or_create(name=slug)
    row, created = MessageTag.objects.get_or_create(
        message=message, tag=tag, defaults={"added_by": actor}
    )
    if not created:
        return None
    log_activity(
        message.ticket,
        actor=actor,
        action=Action.TAG_ADDED,
        after=slug,
        detail=_message_label(message),
    )
    return row


@transaction.atomic
def remove_message_tag(message: Message, *, tag_id: int, actor) -> bool:
    """Take a tag off one message; logs it. False when the message did not have it."""
    row = MessageTag.objects.filter(message=message, tag_id=tag_id).select_related("tag").first()
    if row is None:
        return False
    row.delete()
    log_activity(
        message.ticket,
        actor=actor,
        action=Action.TAG_REMOVED,
        before=row.tag.name,
        detail=_message_label(message),
    )
    return True


def _message_label(message: Message) -> str:
    # Stored as typed-by-the-system text in the reader-neutral form "message #12".
    return f"message #{message.pk}"


# --- quick replies --------------------------------------------------------------------


@dataclass
class QuickReply:
    id: int
    title: str
    text: str
    has_files: bool


def quick_replies(ticket: Ticket, *, user, query: str) -> list[QuickReply]:
    """Canned responses ``user`` may use on ``ticket`` whose title (or text) has ``query``,
    titles first, with their placeholders filled in for this ticket."""
    query = query.strip()[:50]
    usable = CannedResponse.objects.usable_by(user, ticket.pool_id)
    if query:
        usable = usable.filter(Q(title__icontains=query) | Q(body__icontains=query))
    rows = list(usable.prefetch_related("files").order_by("title")[:50])
    lowered = query.lower()
    rows.sort(key=lambda row: (lowered not in row.title.lower(), row.title.lower()))
    return [
        QuickReply(
            id=row.pk,
            title=row.title,
            text=render_canned_response(row, ticket=ticket, agent=user),
            has_files=bool(row.files.all()),
        )
        for row in rows[:QUICK_REPLIES_SHOWN]
    ]
