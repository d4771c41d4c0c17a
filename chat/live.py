"""Live events of the chat app (LIVE_SPEC.md): what browsers hear, and on which topic.

- ``chat.message`` on ``ticket:<number>`` and ``pool:<pool id>`` (agents: a new customer
  message or a reply went out), and on ``conversation:<public key>`` (the widget visitor;
  only what the customer may see: their own messages and agents' replies, never notes).
- ``chat.status`` on ``ticket:<number>``: outbound messages moved to sent, delivered,
  read or failed (the thread's ticks change without a reload).
Every call is safe inside a transaction: ``live.publish`` sends after commit. When the
live app is not installed, nothing is published (the pages still show it on reload).
"""

from django.apps import apps
from django.db import transaction


def _publish(topic: str, event: str, data: dict) -> None:
    _publish_many([(topic, event, data)])


def _publish_many(events: list[tuple[str, str, dict]]) -> None:
    """One after-commit send (one Redis round trip) for all of them."""
    if not apps.is_installed("live"):
        return
    from live.publish import publish_many

    publish_many(events)


def _payload(record) -> dict:
    return {
        "id": record.pk,
        "ticket": record.ticket.number if record.ticket else "",
        "conversation": str(record.conversation.public_key),
        "direction": record.direction,
        "state": record.state,
        "created_at": record.created_at.isoformat(),
    }


def sent_first() -> list[tuple[str, str, dict]]:
    """A list whose events are published right after the current transaction commits, ahead
    of the after-commit work registered after this call (the ticket events' receivers:
    notifications, SLA, webhooks...): an agent hears a chat line without waiting for them."""
    events: list[tuple[str, str, dict]] = []
    if apps.is_installed("live"):
        # After commit, publish_many's own on_commit runs at once.
        transaction.on_commit(lambda: _publish_many(events) if events else None)
    return events


def message_received(record, *, is_new_ticket: bool, into: list | None = None) -> None:
    """A customer's message was recorded (maybe opening a ticket). ``into``: a list of
    ``sent_first``, else published after commit like any event."""
    payload = _payload(record)
    data = {**payload, "new_ticket": is_new_ticket}
    events = []
    if record.ticket is not None:
        events.append((f"ticket:{record.ticket.number}", "chat.message", data))
        events.append((f"pool:{record.ticket.pool_id}", "chat.message", data))
    events.append(
        (
            f"conversation:{record.conversation.public_key}",
            "chat.message",
            {**payload, "text": record.text},
        )
    )
    if into is not None:
        into.extend(events)
    else:
        _publish_many(events)


def message_sent(record) -> None:
    """A reply (or greeting) left through the platform."""
    payload = _payload(record)
    events = [
        (
            f"conversation:{record.conversation.public_key}",
            "chat.message",
            {**payload, "text": record.text},
        )
    ]
    if record.ticket is not None:
        events.insert(0, (f"ticket:{record.ticket.number}", "chat.message", payload))
    _publish_many(events)


def receipts(ids: list[int], *, state: str) -> None:
    if not ids or not apps.is_installed("live"):
        return
    from chat.models import ChatMessage

    by_ticket: dict[str, list[int]] = {}
    rows = ChatMessage.objects.filter(pk__in=ids, ticket__isnull=False)
    for pk, number in rows.values_list("pk", "ticket__number"):
        by_ticket.setdefault(number, []).append(pk)
    for number, ticket_ids in by_ticket.items():
        data = {"ticket": number, "ids": ticket_ids, "state": state}
        _publish(f"ticket:{number}", "chat.status", data)
