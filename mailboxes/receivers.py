"""Reactions to ticket events. Bodies stay thin: they call services."""

from tickets import signals


def _queue_reply(sender, ticket, actor, message, **kwargs):
    from mailboxes.outbound import queue_reply

    queue_reply(message)


def connect() -> None:
    signals.reply_ready.connect(_queue_reply, dispatch_uid="mailboxes-queue-reply")
