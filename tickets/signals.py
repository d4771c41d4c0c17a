"""Domain events. Other apps listen; tickets never imports them.

Every signal is sent after the transaction that caused it commits, with
``ticket`` and ``actor`` (a user or None for the system) plus the keywords listed.
"""

from django.dispatch import Signal

ticket_created = Signal()  # ticket, actor
message_added = Signal()  # ticket, actor, message
status_changed = Signal()  # ticket, actor, before, after
ticket_assigned = Signal()  # ticket, actor, before (user id or None), after (user id or None)
ticket_updated = Signal()  # ticket, actor, field, before, after (priority, topic, product, pool)
ticket_merged = Signal()  # ticket (the one merged away), actor, target
# An outbound reply may now leave: sent at once, or after a supervisor approved it.
reply_ready = Signal()  # ticket, actor, message
