"""The tickets app's own reactions: keep the search documents current, and pool
memberships in step with access profiles."""

import logging

from django.conf import settings
from django.core.cache import cache

from helpdesk.celery import enqueue_on_commit
from people.signals import access_profiles_applied
from tickets import signals
from tickets.services.memberships import follow_access_profiles
from tickets.states import MESSAGING_CHANNELS

logger = logging.getLogger(__name__)


def _reindex(ticket_ids, languages=None) -> None:
    from tickets.tasks import index_tickets_task

    ids = sorted({pk for pk in ticket_ids if pk is not None})
    if not ids:
        return
    # Sent after the event's commit; a lost message is found by the catch-up task.
    told = {str(pk): languages[pk] for pk in ids if pk in (languages or {})}
    if told:
        enqueue_on_commit(index_tickets_task, ids, told)
    else:
        enqueue_on_commit(index_tickets_task, ids)


def _soon_key(ticket) -> str:
    return f"search-soon:{ticket.pk}:{ticket.created_at.timestamp()}"


def _reindex_soon(tickets) -> None:
    """Chat tickets: one rebuild per ticket per ``SEARCH_CHAT_INDEX_SECONDS``, a little after
    the first line of that window, however many lines follow in it.

    A chat gets a line every few seconds and its document is the whole thread, so a rebuild
    per line costs O(n²). The first line of a window marks the ticket in the cache and
    queues the rebuild for after the window; the lines inside it find the mark and queue
    nothing, and all of them are committed before the rebuild reads the thread (their
    receivers run after commit, while the mark lived). The key has the ticket's creation
    time: ids come back after a rollback (tests, SQLite). Without the cache, at once; a
    lost job is the catch-up task's (``updated_at`` is newer than the document).
    """
    from tickets.tasks import index_tickets_task

    wait = settings.SEARCH_CHAT_INDEX_SECONDS
    try:
        due = sorted(
            {ticket.pk for ticket in tickets if cache.add(_soon_key(ticket), 1, timeout=wait)}
        )
    except Exception:
        logger.exception("tickets.reindex_mark_failed")
        _reindex(ticket.pk for ticket in tickets)
        return
    if due:
        enqueue_on_commit(index_tickets_task, due, countdown=wait + 1)


def _tickets_created(sender, tickets, languages=None, **kwargs):
    # ``languages``: told by the intake from the same opening the index would tell it from.
    _reindex((ticket.pk for ticket in tickets), languages)


def _messages_added(sender, messages, **kwargs):
    # A message written in the instant its ticket was opened (the intake's first message)
    # is in the rebuild tickets_created queued after the same commit: not a second one (nor,
    # for a chat, a window: the chat's next line opens one).
    later = [m for m in messages if m.created_at != m.ticket.created_at]
    chats = {}
    if settings.SEARCH_CHAT_INDEX_SECONDS > 0:
        chats = {m.ticket_id: m.ticket for m in later if m.ticket.channel in MESSAGING_CHANNELS}
    if chats:
        _reindex_soon(chats.values())
    _reindex(m.ticket_id for m in later if m.ticket_id not in chats)


def _tickets_updated(sender, changes, **kwargs):
    _reindex(change.ticket.pk for change in changes)


def _tickets_merged(sender, merges, **kwargs):
    _reindex(pk for merge in merges for pk in (merge.ticket.pk, merge.target.pk))


def _access_profiles_applied(sender, users, **kwargs):
    follow_access_profiles(users)


def connect() -> None:
    access_profiles_applied.connect(_access_profiles_applied, dispatch_uid="tickets-profiles")
    signals.tickets_created.connect(_tickets_created, dispatch_uid="tickets-search-created")
    signals.messages_added.connect(_messages_added, dispatch_uid="tickets-search-messages")
    signals.tickets_updated.connect(_tickets_updated, dispatch_uid="tickets-search-updated")
    signals.tickets_merged.connect(_tickets_merged, dispatch_uid="tickets-search-merged")
