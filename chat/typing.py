"""The widget visitor sees "Ana is typing…" (or "An agent is typing…").

The ticket page's reply form (``static/chat/agent_typing.js``) posts while the agent types,
at most once every few seconds; the note form never does, so an internal note stays
invisible. Each signal becomes one live event, ``chat.agent_typing`` on the visitor's
``conversation:<key>`` topic (the stream the widget already listens on), carrying the
agent's first name and how long the widget shows it: a closed tab stops sending and the
note goes away by itself. Nothing is stored.
"""

from django.core.cache import cache

from chat import live
from chat.models import ChatChannel, Conversation

# The widget hides the note this long after the last signal; the page sends one every
# SEND_EVERY_SECONDS while the agent types, so a pause in typing shows as a gap soon after.
SHOWN_FOR_SECONDS = 6
SEND_EVERY_SECONDS = 2
EVENT = "chat.agent_typing"


def widget_conversation_of(ticket) -> Conversation | None:
    """The website-widget conversation whose messages go to ``ticket`` now (else None)."""
    return (
        Conversation.objects.filter(ticket=ticket, channel__kind=ChatChannel.Kind.WIDGET)
        .only("public_key")
        .order_by("-updated_at")
        .first()
    )


def agent_typing(ticket, *, user) -> bool:
    """Tell the ticket's widget visitor that ``user`` is typing a reply; True when sent.

    The caller has checked that ``user`` may see the ticket. Throttled per agent and
    ticket in the shared cache (one event per SEND_EVERY_SECONDS however often the page
    asks, across web processes); a ticket with no widget conversation gets nothing.
    Publishes after commit; safe to call twice.
    """
    if not cache.add(f"chat-agent-typing:{ticket.pk}:{user.pk}", 1, SEND_EVERY_SECONDS):
        return False
    conversation = widget_conversation_of(ticket)
    if conversation is None:
        return False
    data = {"name": user.first_name.strip()[:60], "expires_in": SHOWN_FOR_SECONDS}
    live._publish(f"conversation:{conversation.public_key}", EVENT, data)
    return True
