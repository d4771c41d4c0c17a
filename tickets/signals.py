"""Domain events. Other apps listen; tickets never imports them.

Every signal is sent after the transaction that caused it commits, with
``ticket`` and ``actor`` (a user or None for the system) plus the keywords listed.

Many tickets or messages recorded together (mail ingestion) also send one batch event
after the same commit. Their per-item events still go out, each with ``batched=True``:
a receiver skips those that its batch receiver covers (nothing is done twice, nothing
missed); a receiver that is not batch-aware ignores the flag and works as before.
"""

from django.dispatch import Signal

ticket_created = Signal()  # ticket, actor
message_added = Signal()  # ticket, actor, message
status_changed = Signal()  # ticket, actor, before, after
ticket_assigned = Signal()  # ticket, actor, before (user id or None), after (user id or None)
ticket_updated = Signal()  # ticket, actor, field, before, after (priority, topic, product, pool)
# Batch events: one per commit, after the per-item events that carry batched=True.
# The routing of a batch's new tickets (ticket_updated, ticket_assigned, status_changed to
# taken) is sent after them, also with batched=True: a receiver that reads the ticket as it
# ended up (the SLA's apply_policies) skips those; one that is not covered by a batch event
# (the "ticket taken" notification) handles them as always.
tickets_created_in_batch = Signal()  # tickets (list), actor
messages_added_in_batch = Signal()  # added: list of (ticket, message) pairs, actor
ticket_merged = Signal()  # ticket (the one merged away), actor, target
# An outbound reply may now leave: sent at once, or after a supervisor approved it.
reply_ready = Signal()  # ticket, actor, message
# The customer's answer to a resolution: approved closes it, rejected reopens it.
resolution_approved = Signal()  # ticket, actor
resolution_rejected = Signal()  # ticket, actor, reason

# Questions, not events: sent at once (inside the transaction), receivers answer.
# Before an agent resolves or closes a ticket; a receiver raises ValidationError to refuse
# (e.g. the pool's disposition form is not filled in). Every route goes through
# change_status, so no route skips it.
close_requested = Signal()  # ticket, actor, to
# Before an agent's reply is recorded; a receiver raises ValidationError to refuse it
# unless the agent ``confirmed`` (e.g. the customer's address bounced permanently).
reply_requested = Signal()  # ticket, actor, confirmed
# Extra panels on a ticket page; each receiver returns a list of tickets.panels.Panel
# (survey link, deadline, disposition form...). audience is "agent" or "customer".
ticket_panels = Signal()  # ticket, user, audience
