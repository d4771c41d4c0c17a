"""Webhook events in: stored once, then processed into ticket messages and receipts.

1. ``store_events`` (in the webhook request, after its signature or secret was checked):
   one ``InboundEvent`` per platform event, keyed by the platform's own id, so a
   redelivered webhook adds nothing (``UniqueConstraint(channel, key)``). Committed before
   the 200 answer: a crash afterwards loses nothing.
2. ``process_event`` (Celery, queue ``chat``): claims the row, downloads the media
   outside any transaction, then ``receive`` records the message through
   ``tickets.services.intake.receive_customer_messages`` (routing, SLA, surveys and
   reports follow, as for mail), or ``apply_receipts`` moves our messages to
   delivered/read/failed. Errors become a retry with back-off, then ``failed`` with the
   error (admin: process again).
"""

import logging
from datetime import datetime, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from chat import live
from chat.adapters import adapter_for
from chat.adapters.base import Inbound, Receipt, SendError
from chat.contacts import contact_by_phone, find_or_create_contact
from chat.lifecycle import LATER_CHAT_REASON, ticket_for_message
from chat.models import ChatChannel, ChatMessage, Conversation, InboundEvent
from tickets.models import ActivityLog
from tickets.services.audit import activity_row, log_activities
from tickets.services.intake import CustomerMail, receive_customer_messages

logger = logging.getLogger(__name__)

State = InboundEvent.State
MAX_ATTEMPTS = 5
RECEIPT_ATTEMPTS = 3  # a report about a message we never stored is dropped after these
STUCK_AFTER = timedelta(minutes=10)
FIRST_RETRY = timedelta(seconds=30)
SUBJECT_LENGTH = 80
NOT_DOWNLOADED = gettext_noop("[a file could not be downloaded: %(error)s]")


# --- 1. storing -----------------------------------------------------------------------


def store_events(channel: ChatChannel, payload) -> list[int]:
    """Store every event of a verified webhook body once; the ids still to be processed.

    An event seen before (the platform retried the webhook) is not stored again; when it
    is still waiting its id comes back, which is harmless (processing claims the row).
    """
    pairs = dict(adapter_for(channel).split(payload))  # one row per key, also within a body
    if not pairs:
        return []
    InboundEvent.objects.bulk_create(
        [InboundEvent(channel=channel, key=key[:255], payload=item) for key, item in pairs.items()],
        ignore_conflicts=True,
    )
    waiting = InboundEvent.objects.filter(
        channel=channel, key__in=[key[:255] for key in pairs], state=State.NEW
    )
    return list(waiting.order_by("pk").values_list("pk", flat=True))


# --- 2. processing --------------------------------------------------------------------


def _due(now: datetime) -> Q:
    return Q(state=State.NEW, next_attempt_at__lte=now) | Q(
        state=State.PROCESSING, next_attempt_at__lte=now - STUCK_AFTER
    )


def due_event_ids(now: datetime | None = None, *, limit: int = 500) -> list[int]:
    """Events waiting longer than a minute (their job was lost) or due for a retry."""
    now = now or timezone.now()
    rows = InboundEvent.objects.filter(_due(now), received_at__lte=now - timedelta(minutes=1))
    return list(rows.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])


def process_event(event_id: int) -> bool:
    """Claim one stored event and apply it; True when it is done. Safe to run twice."""
    now = timezone.now()
    claimed = InboundEvent.objects.filter(_due(now), pk=event_id).update(
        state=State.PROCESSING, attempts=F("attempts") + 1, next_attempt_at=now
    )
    if not claimed:
        return False
    event = InboundEvent.objects.select_related("channel__pool").get(pk=event_id)
    adapter = adapter_for(event.channel)
    try:
        parsed = adapter.parse(event.payload)
        if parsed is None:
            _finish(event, State.IGNORED)
            return True
        if isinstance(parsed, list):
            changed = apply_receipts(event.channel, parsed)
            if not changed and event.attempts < RECEIPT_ATTEMPTS and _names_ours(parsed):
                # The report can overtake our own API answer (its message id is not stored
                # yet): look again a little later rather than lose a "delivered".
                _retry_soon(event)
                return False
        else:
            _name_from_profile(adapter, event.channel, parsed)
            files, notes = _download_media(adapter, parsed)
            if notes:
                parsed.text = "\n".join(filter(None, [parsed.text, *notes]))
            receive(event.channel, parsed, files=files)
    except Exception as error:  # network, a bug, a bad payload: retried, then kept as failed
        logger.warning("chat event %s not processed: %s", event.pk, error)
        _record_failure(event, error)
        return False
    _finish(event, State.DONE)
    return True


def _names_ours(receipts: list[Receipt]) -> bool:
    """Whether a report names message ids we have not stored (yet)."""
    ids = [pid for receipt in receipts for pid in receipt.platform_message_ids]
    if not ids:
        return False
    return not ChatMessage.objects.filter(
        direction=ChatMessage.Direction.OUT, platform_message_id__in=ids
    ).exists()


def _retry_soon(event: InboundEvent) -> None:
    InboundEvent.objects.filter(pk=event.pk, state=State.PROCESSING).update(
        state=State.NEW, next_attempt_at=timezone.now() + FIRST_RETRY
    )


def _finish(event: InboundEvent, state: str) -> None:
    InboundEvent.objects.filter(pk=event.pk).update(
        state=state, processed_at=timezone.now(), error=""
    )


def _record_failure(event: InboundEvent, error: Exception) -> None:
    final = event.attempts >= MAX_ATTEMPTS or getattr(error, "permanent", False)
    delay = min(FIRST_RETRY * 2 ** max(event.attempts - 1, 0), timedelta(minutes=30))
    InboundEvent.objects.filter(pk=event.pk, state=State.PROCESSING).update(
        state=State.FAILED if final else State.NEW,
        error=f"{type(error).__name__}: {error}"[:2000],
        next_attempt_at=timezone.now() + delay,
    )


def reprocess_events(event_ids: list[int]) -> int:
    """An admin's "process again": failed events get a fresh set of attempts."""
    return InboundEvent.objects.filter(pk__in=event_ids, state=State.FAILED).update(
        state=State.NEW, attempts=0, next_attempt_at=timezone.now(), error=""
    )


def _name_from_profile(adapter, channel: ChatChannel, inbound: Inbound) -> None:
    """Messenger's webhooks carry no name: ask the profile API once, for a new chat."""
    if inbound.name or not hasattr(adapter, "profile_name"):
        return
    known = Conversation.objects.filter(channel=channel, external_id=inbound.external_id)
    if not known.exists():
        inbound.name = adapter.profile_name(inbound.external_id)


def _download_media(adapter, inbound: Inbound) -> tuple[list, list[str]]:
    """The customer's files; a file the platform no longer has becomes a note in the text.

    A passing failure (network, rate limit) raises: the whole event is retried, and no
    part of it was stored yet.
    """
    files, notes = [], []
    for media in inbound.media:
        try:
            download = adapter.download(media)
        except SendError as error:
            if not error.permanent:
                raise
            notes.append(_(NOT_DOWNLOADED) % {"error": error})
            continue
        files.append(SimpleUploadedFile(download.filename, download.content, download.content_type))
    return files, notes


# --- recording a customer's message ---------------------------------------------------


def _conversation(channel: ChatChannel, inbound: Inbound) -> Conversation:
    """The chat's conversation, locked until commit (two messages of one chat never open two
    tickets), with its contact and ticket; one query for a chat we know."""
    locked = (
        Conversation.objects.select_for_update(of=("self",))
        .select_related("contact", "ticket")
        .filter(channel=channel, external_id=inbound.external_id)
    )
    conversation = locked.first()
    if conversation is None:
        Conversation.objects.get_or_create(
            channel=channel,
            external_id=inbound.external_id,
            defaults={"external_name": inbound.name[:200]},
        )
        conversation = locked.get()
    conversation.channel = channel  # read once already (the greeting and reopening read it)
    return conversation


def _contact_for(conversation: Conversation, inbound: Inbound, email: str):
    if conversation.contact is None:
        return find_or_create_contact(
            # Without a name from the platform, the chat id (a number, a PSID) names them.
            name=inbound.name or conversation.external_name or inbound.external_id,
            phone=inbound.phone,
            email=email,
        )
    if inbound.phone:
        # A Telegram user who shares their number turns out to be a known customer: their
        # next tickets are that customer's (this one keeps its requester).
        known = contact_by_phone(inbound.phone)
        if known is not None:
            return known
    return conversation.contact


def _subject(channel: ChatChannel, inbound: Inbound, name: str) -> str:
    first_line = next((line.strip() for line in inbound.text.splitlines() if line.strip()), "")
    if first_line:
        return first_line[:SUBJECT_LENGTH]
    return _("%(channel)s conversation with %(name)s") % {
        "channel": channel.get_kind_display(),
        "name": name,
    }


def receive(
    channel: ChatChannel,
    inbound: Inbound,
    *,
    files=(),
    email: str = "",
    conversation: Conversation | None = None,
) -> ChatMessage | None:
    """Record a customer's message on their conversation's ticket (a new one if none).

    The entry point of every chat intake (webhooks, and the website widget's views). None
    when this platform message was recorded before. A new ticket gets the channel's
    greeting, or its out-of-hours text outside the calendar's working hours.
    ``conversation``: the chat's, already locked by the caller in this transaction (or made
    in it), with its contact and ticket; else it is found or made here.
    """
    # A caller that holds the conversation holds the transaction: no savepoint of our own
    # (an error rolls back the caller's work too, as it would anyway).
    with transaction.atomic(savepoint=conversation is None):
        return _receive(channel, inbound, files=files, email=email, conversation=conversation)


def _receive(channel, inbound, *, files, email, conversation) -> ChatMessage | None:
    # Registered before the intake's events: the agents' "chat.message" leaves first.
    heard = live.sent_first()
    if conversation is None:
        conversation = _conversation(channel, inbound)
    conversation.channel = channel
    duplicate = (
        inbound.platform_message_id
        # No customer message yet (a conversation just made): nothing to be a duplicate of.
        and conversation.last_inbound_at is not None
        and ChatMessage.objects.filter(
            conversation=conversation,
            direction=ChatMessage.Direction.IN,
            platform_message_id=inbound.platform_message_id,
        ).exists()
    )
    if duplicate:
        return None
    contact = _contact_for(conversation, inbound, email)
    ticket, link_to = ticket_for_message(conversation)
    mail = CustomerMail(
        contact=contact,
        body_text=inbound.text,
        files=files,
        ticket=ticket,
        link_to=link_to,
        link_reason=LATER_CHAT_REASON,
        subject=_subject(channel, inbound, contact.name),
        pool=channel.pool,
        routing_text=inbound.text,
        language=contact.language,
    )
    receive_customer_messages([mail], channel=channel.ticket_channel)
    now = timezone.now()
    conversation.contact = contact
    conversation.ticket = mail.ticket
    conversation.state = Conversation.State.OPEN
    conversation.last_inbound_at = now
    conversation.updated_at = now
    if inbound.name and not conversation.external_name:
        conversation.external_name = inbound.name[:200]
    conversation.save()
    record = ChatMessage.objects.create(
        channel=channel,
        conversation=conversation,
        ticket=mail.ticket,
        message=mail.message,
        direction=ChatMessage.Direction.IN,
        kind=_kind_of(inbound),
        text=inbound.text,
        platform_message_id=inbound.platform_message_id[:255],
        state=ChatMessage.State.RECEIVED,
        created_at=now,
    )
    if mail.is_new:
        from chat.outbound import queue_welcome

        queue_welcome(conversation, language=contact.language, now=now)
    live.message_received(record, is_new_ticket=mail.is_new, into=heard)
    return record


def _kind_of(inbound: Inbound) -> str:
    if not inbound.media:
        return ChatMessage.Kind.TEXT
    return ChatMessage.Kind.IMAGE if inbound.media[0].kind == "image" else ChatMessage.Kind.DOCUMENT


# --- receipts -------------------------------------------------------------------------

_FORWARD: dict[str, list[str]] = {
    ChatMessage.State.DELIVERED: [ChatMessage.State.SENT],
    ChatMessage.State.READ: [ChatMessage.State.SENT, ChatMessage.State.DELIVERED],
}


@transaction.atomic
def apply_receipts(channel: ChatChannel, receipts: list[Receipt]) -> int:
    """Move our sent messages forward (sent -> delivered -> read; never back, whatever
    order the platform's reports arrive in), or to failed (shown on the ticket)."""
    changed = 0
    now = timezone.now()
    for receipt in receipts:
        rows = ChatMessage.objects.filter(channel=channel, direction=ChatMessage.Direction.OUT)
        if receipt.platform_message_ids:
            rows = rows.filter(platform_message_id__in=receipt.platform_message_ids)
        elif receipt.watermark is not None:
            rows = rows.filter(
                conversation__external_id=receipt.external_id, sent_at__lte=receipt.watermark
            )
        else:
            continue
        if receipt.state in _FORWARD:
            updates = {"state": receipt.state, "delivered_at": Coalesce("delivered_at", now)}
            if receipt.state == ChatMessage.State.READ:
                updates["read_at"] = now
            ids = list(rows.filter(state__in=_FORWARD[receipt.state]).values_list("pk", flat=True))
            changed += ChatMessage.objects.filter(pk__in=ids).update(**updates)
            live.receipts(ids, state=receipt.state)
        elif receipt.state == ChatMessage.State.FAILED:
            failed = list(rows.exclude(state=ChatMessage.State.FAILED).select_related("ticket"))
            ChatMessage.objects.filter(pk__in=[row.pk for row in failed]).update(
                state=ChatMessage.State.FAILED, last_error=receipt.error[:2000]
            )
            log_activities(
                [
                    activity_row(
                        row.ticket,
                        actor=None,
                        action=ActivityLog.Action.DELIVERY_FAILED,
                        detail=f"{channel.name}: {receipt.error}"[:500],
                    )
                    for row in failed
                    if row.ticket is not None
                ]
            )
            changed += len(failed)
            live.receipts([row.pk for row in failed], state=receipt.state)
    return changed
