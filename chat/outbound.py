"""The chat outbox: replies leave through their conversation's platform, each part once.

A reply becomes one ``ChatMessage`` per part (0 the text, then one per file), written in
the reply's own transaction (``replies_leaving``: a junior's reply only once approved), so
no crash can lose it. States: queued -> sending -> sent (-> delivered -> read from the
platform's receipts), or -> retry (back-off, or the platform's Retry-After) -> ... ->
failed, shown on the ticket. A row is claimed with a conditional UPDATE: two workers, or a
task delivered twice, never send it twice. A message's parts go in order: the task that
sends one enqueues the next.
"""

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from chat import live
from chat.adapters import adapter_for
from chat.adapters.base import WindowClosedError
from chat.models import ChatChannel, ChatMessage, Conversation
from helpdesk.celery import app as celery_app
from helpdesk.celery import enqueue_on_commit
from sla.business_time import is_working_time
from tickets.models import ActivityLog, Message, Ticket
from tickets.services.audit import log_activity
from tickets.states import MESSAGING_CHANNELS

logger = logging.getLogger(__name__)

State = ChatMessage.State
Kind = ChatMessage.Kind
STUCK_AFTER = timedelta(minutes=10)
LOST_JOB_AFTER = timedelta(minutes=5)
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(minutes=30)
# A wait the platform asks for up to this long is slept off by a delayed job; a longer one
# is left to the sweep.
SHORT_WAIT = 60
NOT_APPROVED = gettext_noop("Not sent: the reply is not approved.")
WINDOW_CLOSED = gettext_noop(
    "Not sent: more than 24 hours since the customer's last WhatsApp message, and no "
    "approved template is configured for this channel."
)
FILE_OUTSIDE_WINDOW = gettext_noop(
    "Not sent: files can only be sent within 24 hours of the customer's last WhatsApp message."
)
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


# --- queueing -------------------------------------------------------------------------


def conversation_of(ticket: Ticket) -> Conversation | None:
    """The conversation a chat ticket's replies go back through (its latest)."""
    return (
        Conversation.objects.filter(ticket=ticket)
        .select_related("channel")
        .order_by("-updated_at", "-pk")
        .first()
    )


def queue_replies(messages: list[Message]) -> list[ChatMessage]:
    """Outbox rows for replies on chat tickets (inside the reply's transaction).

    Mail tickets are left to the mail app. Safe to re-run: a message's parts are written
    once (``UniqueConstraint(message, part)``).
    """
    rows: list[ChatMessage] = []
    for message in messages:
        if message.ticket.channel not in MESSAGING_CHANNELS or not message.is_sendable:
            continue
        conversation = conversation_of(message.ticket)
        if conversation is not None:
            rows.extend(queue_message(conversation, message))
    return rows


def queue_message(conversation: Conversation, message: Message) -> list[ChatMessage]:
    """The parts of one reply, queued; the first is enqueued after commit."""
    if ChatMessage.objects.filter(message=message, direction=ChatMessage.Direction.OUT).exists():
        return []
    now = timezone.now()
    common = {
        "channel": conversation.channel,
        "conversation": conversation,
        "ticket_id": message.ticket_id,
        "message": message,
        "direction": ChatMessage.Direction.OUT,
        "state": State.QUEUED,
        "created_at": now,
        "next_attempt_at": now,
        "enqueued_at": now,
    }
    rows = []
    if message.body_text.strip():
        rows.append(ChatMessage(part=0, kind=Kind.TEXT, text=message.body_text.strip(), **common))
    for number, attachment in enumerate(message.attachments.order_by("pk"), start=1):
        kind = Kind.IMAGE if attachment.content_type in IMAGE_TYPES else Kind.DOCUMENT
        rows.append(ChatMessage(part=number, kind=kind, attachment=attachment, text="", **common))
    ChatMessage.objects.bulk_create(rows)
    if rows:
        enqueue_send(rows[0].pk)
    return rows


def queue_welcome(conversation: Conversation, *, language: str, now: datetime) -> None:
    """The channel's greeting, or its out-of-hours text when the calendar says closed."""
    channel = conversation.channel
    greeting, out_of_hours = channel.text_for(language)
    text = greeting
    calendar = channel.calendar
    if calendar is not None and out_of_hours and not is_working_time(calendar.schedule(), now):
        text = out_of_hours
    if not text.strip():
        return
    row = ChatMessage.objects.create(
        channel=channel,
        conversation=conversation,
        ticket=conversation.ticket,
        direction=ChatMessage.Direction.OUT,
        kind=Kind.TEXT,
        text=text.strip(),
        state=State.QUEUED,
        created_at=now,
        next_attempt_at=now,
        enqueued_at=now,
    )
    enqueue_send(row.pk)


def _send_task():
    name = "chat.tasks.send_chat_message_task"
    if name not in celery_app.tasks:
        celery_app.loader.import_default_modules()
    return celery_app.tasks[name]


def enqueue_send(row_id: int) -> None:
    """Wake a worker for one row after commit; a broker outage leaves it to the sweep."""

    def lost() -> None:
        ChatMessage.objects.filter(pk=row_id).update(enqueued_at=None)

    enqueue_on_commit(_send_task(), row_id, on_failure=lost)


# --- sending --------------------------------------------------------------------------


def _due(now: datetime) -> Q:
    return Q(state__in=[State.QUEUED, State.RETRY], next_attempt_at__lte=now) | Q(
        state=State.SENDING, next_attempt_at__lte=now - STUCK_AFTER
    )


def _without_job(now: datetime) -> Q:
    return Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - LOST_JOB_AFTER)


def requeue_due(now: datetime | None = None) -> list[int]:
    """Enqueue every due row without a job (lost, or a retry whose time came); safe to re-run."""
    now = now or timezone.now()
    due = ChatMessage.objects.filter(_due(now), _without_job(now), direction="out")
    enqueued = []
    for row_id in due.order_by("next_attempt_at").values_list("pk", flat=True)[:500]:
        with transaction.atomic():
            if ChatMessage.objects.filter(_due(now), _without_job(now), pk=row_id).update(
                enqueued_at=now
            ):
                enqueue_send(row_id)
                enqueued.append(row_id)
    return enqueued


def retry_delay(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, ... capped at 30 min."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), MAX_RETRY)


def _claim(row_id: int, now: datetime) -> bool:
    return bool(
        ChatMessage.objects.filter(_due(now), pk=row_id, direction="out").update(
            state=State.SENDING, attempts=F("attempts") + 1, next_attempt_at=now, enqueued_at=None
        )
    )


def _deliver(row: ChatMessage, now: datetime) -> str:
    """Send one part through the platform; the platform's message id."""
    conversation, channel = row.conversation, row.channel
    adapter = adapter_for(channel)
    target = conversation.external_id
    in_window = conversation.window_is_open(now)
    if row.attachment is not None:
        if not in_window:
            raise WindowClosedError(FILE_OUTSIDE_WINDOW)
        with row.attachment.file.open("rb") as stored:
            content = stored.read()
        return adapter.send_file(
            target, row.attachment.filename, content, row.attachment.content_type
        )
    if in_window:
        return adapter.send_text(target, row.text)
    if channel.kind == ChatChannel.Kind.WHATSAPP and channel.template_name:
        ChatMessage.objects.filter(pk=row.pk).update(kind=Kind.TEMPLATE)
        return adapter.send_template(target, row.text)
    raise WindowClosedError(WINDOW_CLOSED)


def send_chat_message(row_id: int) -> bool:
    """Claim one outbox row and send it; True when it was sent.

    Safe to re-run: a row sent, failed, not yet due or claimed elsewhere is left alone.
    Errors never escape: a rate limit or outage is retried (after the platform's
    Retry-After when it gives one), a refusal fails the row at once; a final failure is
    written on the ticket's history (the ticket page shows it).
    """
    now = timezone.now()
    if not _claim(row_id, now):
        return False
    row = ChatMessage.objects.select_related(
        "conversation__channel", "channel", "message", "attachment", "ticket"
    ).get(pk=row_id)
    if row.message is not None and not row.message.is_sendable:
        ChatMessage.objects.filter(pk=row.pk).update(state=State.FAILED, last_error=NOT_APPROVED)
        logger.warning("chat message %s blocked: its reply is not approved", row.pk)
        return False
    try:
        platform_id = _deliver(row, now)
    except Exception as error:  # platform refusals, network, a missing file: never raise
        logger.warning("chat message %s not sent: %s", row.pk, error)
        _record_failure(row, error)
        return False
    sent_at = timezone.now()
    ChatMessage.objects.filter(pk=row.pk).update(
        state=State.SENT, sent_at=sent_at, platform_message_id=platform_id[:255], last_error=""
    )
    row.state, row.sent_at = State.SENT, sent_at
    live.message_sent(row)
    _enqueue_next_part(row)
    return True


def _enqueue_next_part(row: ChatMessage) -> None:
    if row.message_id is None:
        return
    following = (
        ChatMessage.objects.filter(message_id=row.message_id, part__gt=row.part, state=State.QUEUED)
        .order_by("part")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        ChatMessage.objects.filter(pk=following).update(enqueued_at=timezone.now())
        _send_task().delay(following)


def _record_failure(row: ChatMessage, error: Exception) -> None:
    from django.utils.translation import gettext

    now = timezone.now()
    text = gettext(str(error)) if isinstance(error, WindowClosedError) else f"{error}"
    text = text[:2000]
    permanent = getattr(error, "permanent", False)
    final = permanent or row.attempts >= settings.OUTBOX_MAX_ATTEMPTS
    retry_after = getattr(error, "retry_after", None)
    delay = timedelta(seconds=retry_after) if retry_after else retry_delay(row.attempts)
    updated = ChatMessage.objects.filter(pk=row.pk, state=State.SENDING).update(
        state=State.FAILED if final else State.RETRY,
        last_error=text,
        next_attempt_at=now + delay,
        enqueued_at=None if final or delay.total_seconds() > SHORT_WAIT else now,
    )
    if not updated:
        return
    if final:
        if row.ticket_id:
            log_activity(
                Ticket(pk=row.ticket_id),
                actor=None,
                action=ActivityLog.Action.DELIVERY_FAILED,
                detail=f"{row.channel.name}: {text}"[:500],
            )
        live.receipts([row.pk], state=State.FAILED)
    elif delay.total_seconds() <= SHORT_WAIT:
        # The platform's own wait (429 retry_after) is short: a delayed job, not the sweep.
        _send_task().apply_async((row.pk,), countdown=delay.total_seconds())


def send_again(row_ids: list[int]) -> int:
    """An admin's "send again": failed rows get a fresh set of attempts (sent ones never)."""
    now = timezone.now()
    ids = list(
        ChatMessage.objects.filter(pk__in=row_ids, state=State.FAILED, direction="out").values_list(
            "pk", flat=True
        )
    )
    ChatMessage.objects.filter(pk__in=ids, state=State.FAILED).update(
        state=State.QUEUED, attempts=0, next_attempt_at=now, last_error="", enqueued_at=now
    )
    for row_id in ids:
        enqueue_send(row_id)
    return len(ids)
