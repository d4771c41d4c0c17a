"""The chat thread on the ticket page: the ticket's messages as bubbles, with delivery state.

Two queries on top of the page's: the ticket's platform records and its conversation.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext_lazy as _

from chat.models import ChatChannel, ChatMessage
from tickets.models import Message
from tickets.panels import ThreadView
from tickets.states import MESSAGING_CHANNELS

State = ChatMessage.State
ICONS = {
    "chat": "bi-chat-dots",
    "telegram": "bi-telegram",
    "whatsapp": "bi-whatsapp",
    "messenger": "bi-messenger",
}
# A message in several parts shows its least advanced part (a failure first).
_ORDER: list[str] = [
    State.FAILED,
    State.QUEUED,
    State.RETRY,
    State.SENDING,
    State.SENT,
    State.DELIVERED,
    State.READ,
]
STATE_LABELS: dict[str, object] = {
    State.QUEUED: _("Queued"),
    State.SENDING: _("Sending"),
    State.RETRY: _("Waiting to retry"),
    State.SENT: _("Sent"),
    State.DELIVERED: _("Delivered"),
    State.READ: _("Read"),
    State.FAILED: _("Not delivered"),
}


@dataclass
class Bubble:
    side: str  # "in" (customer), "out" (agent or automatic), "note" (internal)
    created_at: datetime
    message: Message | None = None
    text: str = ""
    state: str = ""
    error: str = ""
    parts: list = field(default_factory=list)

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS.get(self.state, ""))


def _state_of(parts: list[ChatMessage]) -> tuple[str, str]:
    outbound = [part for part in parts if part.direction == ChatMessage.Direction.OUT]
    if not outbound:
        return "", ""
    worst = min(outbound, key=lambda part: _ORDER.index(part.state) if part.state in _ORDER else 0)
    return worst.state, worst.last_error


def thread_view(ticket, messages) -> ThreadView | None:
    if ticket.channel not in MESSAGING_CHANNELS:
        return None
    records = list(ChatMessage.objects.filter(ticket=ticket).order_by("created_at", "pk"))
    by_message: dict[int, list[ChatMessage]] = {}
    bubbles = []
    for record in records:
        if record.message_id is None:
            state, error = _state_of([record])
            bubbles.append(
                Bubble(
                    side="out",
                    created_at=record.created_at,
                    text=record.text,
                    state=state,
                    error=error,
                    parts=[record],
                )
            )
        else:
            by_message.setdefault(record.message_id, []).append(record)
    for message in messages:
        parts = by_message.get(message.pk, [])
        side = {
            Message.Kind.INBOUND: "in",
            Message.Kind.OUTBOUND: "out",
        }.get(message.kind, "note")
        state, error = _state_of(parts)
        bubbles.append(
            Bubble(
                side=side,
                created_at=message.created_at,
                message=message,
                state=state,
                error=error,
                parts=parts,
            )
        )
    bubbles.sort(key=lambda bubble: bubble.created_at)
    channel = (
        ChatChannel.objects.filter(conversations__ticket=ticket)
        .order_by("-conversations__updated_at")
        .first()
    )
    return ThreadView(
        template="chat/thread.html",
        context={
            "bubbles": bubbles,
            "icon": ICONS.get(ticket.channel, "bi-chat-dots"),
            "channel": channel,
        },
    )
