"""What a webhook can be told, one line per event, and how each becomes payloads.

``REGISTRY`` is the one list: an event's name (stable, what receivers switch on), its
label, the domain signal that carries it, the keyword of the signal's list, and a function
turning the whole list into ``Item``s (the ticket, or the pool when there is no ticket, and
the event's own fields). Adding an event is adding a line; ``receivers.connect`` wires
every signal named here. The item functions read what they need in set queries: a batch
of a thousand tickets is one list, never a thousand queries.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.dispatch import Signal
from django.utils.translation import gettext_lazy as _

from phone import signals as phone_signals
from sla import signals as sla_signals
from surveys import signals as survey_signals
from tickets import signals as ticket_signals
from tickets.models import Message


@dataclass(frozen=True)
class Item:
    """One occurrence: the ticket it is about (its pool decides who hears it) and its data."""

    ticket_id: int | None
    data: dict[str, Any] = field(default_factory=dict)
    pool_id: int | None = None  # for an event without a ticket


@dataclass(frozen=True)
class Event:
    name: str
    label: Any  # lazy text
    signal: Signal
    argument: str  # the keyword the signal's list comes in
    items: Callable[[list], list[Item]]


def each(make: Callable[[Any], Item | None]) -> Callable[[list], list[Item]]:
    """Items one by one, for events whose data is already on the signal's objects."""

    def items(objects: Iterable) -> list[Item]:
        return [item for item in map(make, objects) if item is not None]

    return items


def _message(kind: str) -> Callable[[Any], Item | None]:
    def make(message) -> Item | None:
        if message.kind != kind:
            return None
        return Item(message.ticket_id, {"message": message_data(message)})

    return make


def message_data(message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "kind": message.kind,
        "author_user_id": message.author_user_id,
        "author_contact_id": message.author_contact_id,
        "body_text": message.body_text,
        "created_at": message.created_at.isoformat(),
    }


def _status(change) -> Item:
    return Item(change.ticket.pk, {"before": change.before, "after": change.after})


def _assignment(change) -> Item:
    return Item(change.ticket.pk, {"before": change.before, "after": change.after})


def _field(change) -> Item:
    # A pool move says only where the ticket is now: the old pool's name is not the new
    # pool's endpoints' business.
    before = "" if change.field == "pool" else change.before
    return Item(change.ticket.pk, {"field": change.field, "before": before, "after": change.after})


def _deadline(deadline) -> Item:
    due = deadline.due_at.isoformat() if deadline.due_at else None
    return Item(deadline.ticket_id, {"target": deadline.target, "due_at": due})


def _survey_responses(responses: list) -> list[Item]:
    from surveys.models import Answer

    answers: dict[int, list] = {}
    rows = Answer.objects.filter(response__in=[response.pk for response in responses])
    for response_id, question_id, number, text in rows.values_list(
        "response_id", "question_id", "number", "text"
    ):
        answers.setdefault(response_id, []).append(
            {"question_id": question_id, "number": number, "text": text}
        )
    return [
        Item(
            response.ticket_id,
            {
                "response_id": response.pk,
                "questionnaire_id": response.questionnaire_id,
                "answers": answers.get(response.pk, []),
            },
        )
        for response in responses
    ]


def _call(call) -> Item:
    # A new call has no ticket yet: its pool decides which endpoints hear it.
    contact = call.contact
    return Item(
        None,
        {
            "call": {
                "id": call.pk,
                "direction": call.direction,
                "state": call.state,
                "from_number": call.from_number,
                "to_number": call.to_number,
                "customer_number": call.customer_number,
                "pool_id": call.pool_id,
                "agent_id": call.agent_id,
                "contact": None if contact is None else {"id": contact.pk, "name": contact.name},
                "started_at": call.started_at.isoformat(),
            }
        },
        pool_id=call.pool_id,
    )


Kind = Message.Kind
# fmt: off
REGISTRY: list[Event] = [
    Event("ticket.created", _("Ticket created"), ticket_signals.tickets_created, "tickets",
          each(lambda ticket: Item(ticket.pk))),
    Event("message.customer", _("Customer message"), ticket_signals.messages_added, "messages",
          each(_message(Kind.INBOUND))),
    Event("message.reply", _("Agent reply (when it may leave)"), ticket_signals.replies_ready,
          "messages", each(_message(Kind.OUTBOUND))),
    Event("message.note", _("Internal note"), ticket_signals.messages_added, "messages",
          each(_message(Kind.NOTE))),
    Event("ticket.status_changed", _("Status changed"), ticket_signals.statuses_changed,
          "changes", each(_status)),
    Event("ticket.assigned", _("Assigned"), ticket_signals.tickets_assigned, "changes",
          each(_assignment)),
    Event("ticket.updated", _("Priority, topic, product or pool changed"),
          ticket_signals.tickets_updated, "changes", each(_field)),
    Event("sla.warning", _("SLA deadline approaching"), sla_signals.deadlines_reminded,
          "deadlines", each(_deadline)),
    Event("sla.breached", _("SLA deadline missed"), sla_signals.deadlines_breached, "deadlines",
          each(_deadline)),
    Event("survey.answered", _("Survey answered"), survey_signals.surveys_answered, "responses",
          _survey_responses),
    Event("call.received", _("Call received"), phone_signals.calls_received, "calls",
          each(_call)),
]
# fmt: on

BY_NAME = {event.name: event for event in REGISTRY}


def choices() -> list[tuple[str, Any]]:
    return [(event.name, event.label) for event in REGISTRY]
