"""Hooks the mail path offers to the apps below it (sla), which mailboxes never imports.

Unlike the domain events in ``tickets.signals`` these are sent synchronously, inside the
processing transaction, and the receivers' answers are used.
"""

from django.dispatch import Signal

# A mail threads onto ``ticket`` (by our Message-ID, or the subject tag) but its sender is
# not a participant. A receiver that recognises the sender as someone the ticket is
# waiting for (a consulted department) stores the mail and returns the Message; otherwise
# it returns None and the mail becomes a new ticket linked to the old one, as always.
# Keywords: ticket, contact, from_address, body_text, body_html, files, message_id.
reply_from_outsider = Signal()

# The same question without storing anything: does a receiver wait for mail from this
# sender on ``ticket``? Receivers return True or False. Asked only for mail that failed
# DMARC, so that a forged "answer from the department" is held like a forged reply.
# Keywords: ticket, from_address.
expects_reply_from = Signal()

# Extra variables for the auto-reply to a new ticket; receivers return a dict
# (e.g. ``out_of_hours``: the calendar's text when the ticket arrived out of hours).
# Keywords: ticket, mailbox, shared (a dict kept across the tickets of one batch, where a
# receiver may keep what it read for all of them; it lives as long as the batch).
auto_reply_context = Signal()
