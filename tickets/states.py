"""Ticket states, priorities and channels, and which status may follow which."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Priority(models.IntegerChoices):
    LOW = 10, _("Low")
    NORMAL = 20, _("Normal")
    HIGH = 30, _("High")
    URGENT = 40, _("Urgent")


class Status(models.TextChoices):
    NEW = "new", _("New")
    TAKEN = "taken", _("Taken")
    IN_PROGRESS = "in_progress", _("In progress")
    CONSULTATION = "consultation", _("In consultation")
    WAITING_CUSTOMER = "waiting_customer", _("Waiting for customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (
    Status.NEW,
    Status.TAKEN,
    Status.IN_PROGRESS,
    Status.CONSULTATION,
    Status.WAITING_CUSTOMER,
)


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    PORTAL = "portal", _("Customer portal")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    AGENT = "agent", _("Created by an agent")
    WALK_IN = "walk_in", _("Walk-in")
    # The agent writes first: the customer gets the ticket's first message by mail.
    OUTBOUND_EMAIL = "outbound", _("Outbound email")
    TELEGRAM = "telegram", _("Telegram")
    WHATSAPP = "whatsapp", _("WhatsApp")
    MESSENGER = "messenger", _("Messenger")


# Tickets that came from a chat (the website widget or a messaging platform). When such a
# ticket has a conversation, its replies go back through it (the chat app), not by mail.
MESSAGING_CHANNELS = (Channel.CHAT, Channel.TELEGRAM, Channel.WHATSAPP, Channel.MESSENGER)


# What an agent may say a ticket they open came by (New ticket form); "Created by an agent"
# is for anything else (a letter, a meeting).
AGENT_CHANNELS = (
    Channel.PHONE,
    Channel.WALK_IN,
    Channel.OUTBOUND_EMAIL,
    Channel.EMAIL,
    Channel.CHAT,
    Channel.AGENT,
)


CLOSED_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.CANCELLED)

# The statuses a reply can set ("Then set status"). A junior's reply holds them until a
# supervisor approves it; meanwhile no other route lets a junior set them on that ticket.
HELD_STATUSES = (Status.WAITING_CUSTOMER, Status.RESOLVED, Status.CLOSED)

# The status machine of DESIGN.md. Assignment moves new -> taken; everything else is an
# explicit agent (or customer) decision checked against this table.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.NEW: frozenset(
        {
            Status.TAKEN,
            Status.IN_PROGRESS,
            Status.WAITING_CUSTOMER,
            Status.CONSULTATION,
            Status.RESOLVED,
            Status.CLOSED,
            Status.CANCELLED,
        }
    ),
    Status.TAKEN: frozenset(
        {
            Status.NEW,
            Status.IN_PROGRESS,
            Status.WAITING_CUSTOMER,
            Status.CONSULTATION,
            Status.RESOLVED,
            Status.CLOSED,
            Status.CANCELLED,
        }
    ),
    Status.IN_PROGRESS: frozenset(
        {
            Status.NEW,
            Status.TAKEN,
            Status.WAITING_CUSTOMER,
            Status.CONSULTATION,
            Status.RESOLVED,
            Status.CLOSED,
            Status.CANCELLED,
        }
    ),
    Status.CONSULTATION: frozenset(
        {
            Status.IN_PROGRESS,
            Status.WAITING_CUSTOMER,
            Status.RESOLVED,
            Status.CLOSED,
            Status.CANCELLED,
        }
    ),
    Status.WAITING_CUSTOMER: frozenset(
        {Status.IN_PROGRESS, Status.CONSULTATION, Status.RESOLVED, Status.CLOSED, Status.CANCELLED}
    ),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),
    Status.CLOSED: frozenset({Status.IN_PROGRESS}),
    Status.CANCELLED: frozenset(),
}


def can_transition(before: str, after: str) -> bool:
    return after in TRANSITIONS.get(before, frozenset())
