"""The website widget's services: who may embed it, spam and rate checks, a visitor's
messages in and out, read state, typing, and the transcript by mail.

A visitor has no account. Their first message makes a conversation (``external_id`` a
random id) and they get a signed visitor token (``chat.visitor``) naming it: every later
call shows it, and it opens nothing but that conversation (its messages, its files, its
live topic). Every widget request comes from a page on another site, so the channel's
allowed origins are checked on each one (``origin_allowed``), with the ``Origin`` header
the browser sets and page script cannot forge.
"""

import time
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from chat import live
from chat.adapters.base import Inbound, MediaRef, Receipt
from chat.contacts import find_or_create_contact
from chat.inbound import apply_receipts, receive
from chat.models import ChatChannel, ChatMessage, Conversation
from chat.visitor import conversation_key_of
from sla.business_time import is_working_time
from tickets.models import Attachment

MAX_TEXT = 2000
MAX_NAME = 100
MAX_FILES = 3
MAX_FILE_BYTES = 10 * 1024 * 1024
ALLOWED_TYPES = {
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
    "text/csv",
    "application/zip",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
# A person needs a few seconds to open the widget and type; a script posting at once is not one.
STAMP_SALT = "chat.widget.form"
STAMP_MAX_AGE = 60 * 60 * 24
HONEYPOT = "website"
TRANSCRIPT_SUBJECT = gettext_noop("Transcript of your chat")


class RefusedError(Exception):
    """The request is not taken: ``status`` is the HTTP answer (400, 403, 404, 413, 429)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.status = status


# --- the channel and its origins ------------------------------------------------------


# Every widget request reads its channel: each process keeps what it read for a few seconds
# (a busy site's visitors send tens of requests a second to one channel). An admin's change
# reaches this process at once (``forget_widget_channels``, on save) and the other
# processes within CHANNEL_SECONDS.
CHANNEL_SECONDS = 5.0
_channels: dict[str, tuple[float, ChatChannel | None]] = {}


def widget_channel(key) -> ChatChannel | None:
    """The active widget channel of a public key (None for any other key or kind), with its
    calendar, pool and translated texts; read at most once per ``CHANNEL_SECONDS`` per
    process. Callers only read it."""
    try:
        key = str(uuid.UUID(str(key)))
    except ValueError:
        return None
    now = time.monotonic()
    kept = _channels.get(key)
    if kept is not None and kept[0] > now:
        return kept[1]
    channel = (
        ChatChannel.objects.filter(public_key=key, kind=ChatChannel.Kind.WIDGET, active=True)
        .select_related("calendar", "pool")
        .prefetch_related("texts")
        .first()
    )
    if len(_channels) > 1000:  # keys nobody asks for any more
        _channels.clear()
    _channels[key] = (now + CHANNEL_SECONDS, channel)
    return channel


def forget_widget_channels() -> None:
    """A channel or its texts changed: this process reads them again."""
    _channels.clear()


def normalized_origin(value: str) -> str:
    """``scheme://host[:port]`` in lower case, default ports dropped; "" when not an origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return ""
    default = {"http": 80, "https": 443}[parts.scheme]
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default else "")


def allowed_origins(channel: ChatChannel) -> set[str]:
    return {
        origin
        for origin in (normalized_origin(line) for line in channel.allowed_origins.splitlines())
        if origin
    }


def origin_allowed(channel: ChatChannel, origin: str | None) -> bool:
    """Whether a page of ``origin`` may use the channel: listed exactly; never without one."""
    normalized = normalized_origin(origin or "")
    return bool(normalized) and normalized in allowed_origins(channel)


# --- rate limits and spam ---------------------------------------------------------------


def within_rate(kind: str, key: str, limit: int, seconds: int = 60) -> bool:
    """Count one request of ``key`` in the current window; False once over ``limit``.

    A fixed window in the cache (``add`` then ``incr`` are atomic in Redis and locmem);
    with a cache shared by the web processes the limit is per site, not per process.
    """
    window = int(time.time() // seconds)
    cache_key = f"chat-widget:{kind}:{key}:{window}"
    if cache.add(cache_key, 1, timeout=seconds + 5):
        return limit >= 1
    try:
        return cache.incr(cache_key) <= limit
    except ValueError:  # expired between add and incr
        cache.add(cache_key, 1, timeout=seconds + 5)
        return True


def check_rates(*, address: str, visitor: str = "") -> None:
    """Raise 429 when this address or visitor sent too much this minute."""
    if not within_rate("ip", address, settings.CHAT_WIDGET_IP_PER_MINUTE):
        raise RefusedError(_("Too many messages. Please wait a minute."), status=429)
    if visitor and not within_rate("visitor", visitor, settings.CHAT_WIDGET_VISITOR_PER_MINUTE):
        raise RefusedError(_("Too many messages. Please wait a minute."), status=429)


def form_stamp() -> str:
    """A signed "the widget was shown at" time, sent back with the first message."""
    return signing.dumps(time.time(), salt=STAMP_SALT)


def check_human(*, honeypot: str, stamp: str) -> None:
    """Refuse what a robot does: fill the hidden field, or post faster than anyone types."""
    if honeypot:
        raise RefusedError(_("Your message could not be sent."))
    try:
        shown_at = float(signing.loads(stamp, salt=STAMP_SALT, max_age=STAMP_MAX_AGE))
    except (signing.BadSignature, TypeError, ValueError):
        raise RefusedError(_("Please reload the page and try again.")) from None
    if time.time() - shown_at < settings.CHAT_WIDGET_MIN_SECONDS:
        raise RefusedError(_("Your message could not be sent."))


def check_files(files) -> None:
    if len(files) > MAX_FILES:
        raise RefusedError(_("Send at most %(count)d files at once.") % {"count": MAX_FILES})
    for upload in files:
        if upload.size > MAX_FILE_BYTES:
            raise RefusedError(
                _("%(name)s is larger than %(size)d MB.")
                % {"name": upload.name, "size": MAX_FILE_BYTES // (1024 * 1024)},
                status=413,
            )
        if (upload.content_type or "").lower() not in ALLOWED_TYPES:
            raise RefusedError(
                _("Files of this type cannot be sent: %(name)s.") % {"name": upload.name}
            )


# --- the visitor's conversation ---------------------------------------------------------


def conversation_for(channel: ChatChannel, token: str, *, lock=False) -> Conversation | None:
    """The conversation a visitor token names, on this channel only.

    ``lock``: locked until commit, with its contact and ticket, as ``chat.inbound.receive``
    wants it (one query for the token's check and the message's lock).
    """
    key = conversation_key_of(token) if token else None
    if key is None:
        return None
    rows = Conversation.objects.filter(channel=channel, public_key=key)
    if lock:
        rows = rows.select_for_update(of=("self",)).select_related("contact", "ticket")
    return rows.first()


def is_open_now(channel: ChatChannel) -> bool:
    """Whether the channel's calendar says someone is working (no calendar: always)."""
    if channel.calendar is None:
        return True
    return is_working_time(channel.calendar.schedule(), timezone.now())


@dataclass
class Posted:
    record: ChatMessage
    conversation: Conversation


def post_message(
    channel: ChatChannel,
    *,
    conversation: Conversation | None,
    text: str,
    files=(),
    name: str = "",
    email: str = "",
    language: str = "",
    client_id: str = "",
) -> Posted:
    """Record a visitor's message (the first one starts their conversation and ticket).

    ``client_id`` is the widget's own id of the message: sent twice (a retried request),
    it is stored once. Goes through ``chat.inbound.receive`` like every channel.
    ``conversation``: as ``conversation_for(..., lock=True)`` read it, in the caller's
    transaction.
    """
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise RefusedError(_("Messages are limited to %(count)d characters.") % {"count": MAX_TEXT})
    if not text and not files:
        raise RefusedError(_("Write a message or attach a file."))
    check_files(files)
    external_id = conversation.external_id if conversation else f"visitor-{uuid.uuid4().hex}"
    media = [
        MediaRef(
            ref="upload",
            kind="image" if (f.content_type or "").startswith("image/") else "document",
        )
        for f in files
    ]
    inbound = Inbound(
        external_id=external_id,
        platform_message_id=(client_id or uuid.uuid4().hex)[:100],
        name=name.strip()[:MAX_NAME],
        text=text,
        media=media,
    )
    # No savepoint: the view's transaction is this one (a refusal rolls it all back).
    with transaction.atomic(savepoint=False):
        if conversation is None:
            conversation = _start_conversation(
                channel, external_id, name=name, email=email, language=language
            )
        record = receive(channel, inbound, files=list(files), conversation=conversation)
        if record is None:  # the same client id again: the message stored the first time
            stored = Conversation.objects.select_related("contact").get(
                channel=channel, external_id=external_id
            )
            record = ChatMessage.objects.get(
                conversation=stored, direction="in", platform_message_id=inbound.platform_message_id
            )
            record.conversation = stored
    return Posted(record=record, conversation=record.conversation)


def _start_conversation(
    channel: ChatChannel, external_id: str, *, name: str, email: str, language: str
) -> Conversation:
    """The new visitor's conversation and contact: a known contact by the email given in
    the pre-chat form, else a new one speaking the widget's language (so the greeting and
    the agents' tools use it)."""
    email = email.strip().lower()
    name = name.strip()[:MAX_NAME]
    language = language if language in dict(settings.LANGUAGES) else ""
    contact = find_or_create_contact(
        name=name or _("Website visitor"), email=email, language=language
    )
    if not contact.language and language:
        contact.language = language
        contact.save(update_fields=["language"])
    return Conversation.objects.create(
        channel=channel, external_id=external_id, external_name=name, contact=contact
    )


def _files_by_message(rows: list[ChatMessage]) -> dict[int, list[Attachment]]:
    # A customer's message with files is an image or a document (``inbound._kind_of``).
    ids = [
        row.message_id
        for row in rows
        if row.message_id and row.direction == "in" and row.kind != ChatMessage.Kind.TEXT
    ]
    if not ids:
        return {}
    found: dict[int, list[Attachment]] = {}
    for item in Attachment.objects.filter(message_id__in=ids).order_by("pk"):
        if item.message_id is not None:
            found.setdefault(item.message_id, []).append(item)
    return found


SHOWN_STATES = [ChatMessage.State.SENT, ChatMessage.State.DELIVERED, ChatMessage.State.READ]


def visible_rows(conversation: Conversation):
    """What the customer sees: their messages and what left for them (never notes, never
    a reply still queued or held for approval)."""
    return ChatMessage.objects.filter(conversation=conversation).filter(
        Q(direction=ChatMessage.Direction.IN)
        | Q(direction=ChatMessage.Direction.OUT, state__in=SHOWN_STATES)
    )


def described(rows) -> list[dict]:
    """Each row with its files and its author's first name (agents' replies): three queries."""
    rows = list(rows.select_related("attachment", "message__author_user"))
    files = _files_by_message(rows)
    items = []
    for row in rows:
        attached = [row.attachment] if row.attachment_id else files.get(row.message_id or 0, [])
        author = ""
        if row.direction == "out" and row.message is not None and row.message.author_user:
            author = row.message.author_user.first_name or row.message.author_user.get_username()
        items.append({"row": row, "files": attached, "author": author})
    return items


def visible_messages(conversation: Conversation, *, after: int = 0, limit: int = 200):
    """The visible messages after id ``after``, oldest first, described."""
    return described(visible_rows(conversation).filter(pk__gt=after).order_by("pk")[:limit])


def attachment_of(conversation: Conversation, attachment_id: int) -> Attachment | None:
    """A file of this conversation the visitor may download: one they sent, or one sent to
    them (a part that left); None for anything else."""
    sent_to_them = ChatMessage.objects.filter(
        conversation=conversation,
        direction=ChatMessage.Direction.OUT,
        attachment_id=attachment_id,
        state__in=SHOWN_STATES,
    )
    their_messages = ChatMessage.objects.filter(
        conversation=conversation, direction=ChatMessage.Direction.IN
    ).values("message_id")
    return (
        Attachment.objects.filter(pk=attachment_id)
        .filter(Q(pk__in=sent_to_them.values("attachment_id")) | Q(message_id__in=their_messages))
        .first()
    )


def mark_seen(conversation: Conversation, *, up_to: int, state: str) -> int:
    """The widget showed (``delivered``) or the visitor read (``read``) our messages up to
    ``up_to``: they move forward (never back), and the ticket page's ticks follow live."""
    if state not in (ChatMessage.State.DELIVERED, ChatMessage.State.READ):
        raise RefusedError(_("Unknown state."))
    ids = list(
        ChatMessage.objects.filter(
            conversation=conversation, direction="out", pk__lte=up_to
        ).values_list("platform_message_id", flat=True)
    )
    ids = [pid for pid in ids if pid]
    if not ids:
        return 0
    return apply_receipts(conversation.channel, [Receipt(state=state, platform_message_ids=ids)])


def visitor_typing(conversation: Conversation) -> None:
    """Tell the agents on the ticket that the visitor is typing (a live event, no row)."""
    if conversation.ticket is None:
        return
    ticket = conversation.ticket
    live._publish(f"ticket:{ticket.number}", "chat.typing", {"ticket": ticket.number})


def mail_transcript(conversation: Conversation, *, email: str, language: str) -> bool:
    """Put the conversation's transcript in the mail outbox, to ``email``.

    Only to an address the conversation's contact owns (the one given in the pre-chat form
    or a known one), so the widget cannot be used to mail strangers. False otherwise.
    """
    from mailboxes.outbound import queue_notification

    contact = conversation.contact
    address = email.strip().lower()
    if contact is None or conversation.ticket is None:
        return False
    if not contact.emails.filter(address=address).exists():
        return False
    lines = []
    for item in visible_messages(conversation, limit=1000):
        row = item["row"]
        who = contact.name if row.direction == "in" else (item["author"] or _("Support"))
        stamp = timezone.localtime(row.created_at).strftime("%Y-%m-%d %H:%M")
        names = ", ".join(f.filename for f in item["files"])
        lines.append(f"[{stamp}] {who}: {row.text}" + (f" ({names})" if names else ""))
    queue_notification(
        conversation.ticket,
        to=[address],
        subject=_(TRANSCRIPT_SUBJECT),
        body_text="\n".join(lines) + "\n",
        automatic=True,
    )
    return True
