"""The chat app's answers to the tickets' questions and events.

- ``replies_leaving``: a reply on a chat ticket becomes outbox rows in its transaction;
  ``replies_sent_elsewhere``: such a ticket (one with a conversation) is not mailed.
- ``reply_requested``: on WhatsApp outside the 24-hour window, a reply is refused until
  the agent ticks that it goes as the approved template (or refused outright without one).
- ``ticket_panels``: the window's state, on the agent's ticket page, before they write.
- ``ticket_thread``: the chat thread (bubbles, times, delivery state) instead of the mail one.
- a channel or its texts saved: the widget's views read it again (``chat.widget``).
"""

from tickets import signals
from tickets.panels import AGENT


def _on_replies_leaving(sender, messages, actor, **kwargs):
    from chat.outbound import queue_replies

    queue_replies(messages)


def _on_replies_sent_elsewhere(sender, ticket, **kwargs):
    from chat.models import Conversation

    return Conversation.objects.filter(ticket=ticket).exists()


def _on_reply_requested(sender, ticket, actor, confirmed, **kwargs):
    from chat.window import check_reply

    check_reply(ticket, confirmed=confirmed)


def _on_ticket_panels(sender, ticket, user, audience, **kwargs):
    from chat.window import window_panels

    if audience != AGENT:
        return []
    return window_panels(ticket)


def _on_ticket_thread(sender, ticket, user, messages, **kwargs):
    from chat.thread import thread_view

    return thread_view(ticket, messages)


def _on_channel_changed(sender, **kwargs):
    from chat.widget import forget_widget_channels

    forget_widget_channels()


def connect() -> None:
    from django.db.models.signals import post_delete, post_save

    from chat.models import ChannelText, ChatChannel

    for model in (ChatChannel, ChannelText):
        name = model.__name__
        post_save.connect(_on_channel_changed, sender=model, dispatch_uid=f"chat-saved-{name}")
        post_delete.connect(_on_channel_changed, sender=model, dispatch_uid=f"chat-gone-{name}")
    signals.replies_leaving.connect(_on_replies_leaving, dispatch_uid="chat-queue-replies")
    signals.replies_sent_elsewhere.connect(
        _on_replies_sent_elsewhere, dispatch_uid="chat-replies-sent-here"
    )
    signals.reply_requested.connect(_on_reply_requested, dispatch_uid="chat-window-check")
    signals.ticket_panels.connect(_on_ticket_panels, dispatch_uid="chat-window-panel")
    signals.ticket_thread.connect(_on_ticket_thread, dispatch_uid="chat-thread")
