"""Domain events and questions. Other apps listen; tickets never imports them.

Events are sent once the transaction that caused them commits, with ``send_robust``
through ``tickets.services.audit.announce``: a receiver that fails is logged with its
traceback and the others still run. Every event carries lists, whether one ticket
changed (an agent's click) or fifty (a batch of mail): a receiver handles the list in
one go and never needs to know which path sent it. ``actor`` is a user, or None for the
system. Each item names its own ticket; a ticket appears once per event.

Questions are sent with plain ``send`` inside the transaction: a receiver may refuse by
raising, which rolls the change back.
"""

from dataclasses import dataclass
from typing import Any

from django.dispatch import Signal


def _signal(doc: str) -> Signal:
    signal = Signal()
    signal.__doc__ = doc  # the arguments it is sent with
    return signal


@dataclass(frozen=True)
class StatusChange:
    ticket: Any
    before: str
    after: str


@dataclass(frozen=True)
class Assignment:
    ticket: Any
    before: int | None  # user id, or None: the pool
    after: int | None
    # The caller tells the new assignee in a mail of its own (a department's answer brings
    # the ticket back to the consultant): no separate "assigned to me".
    told: bool = False
    # The ticket was opened in the same transaction (routing at intake): what reads the
    # ticket after ``tickets_created`` (the report facts) already sees this assignee.
    opened: bool = False


@dataclass(frozen=True)
class FieldChange:
    ticket: Any
    field: str  # priority, topic, product or pool
    before: str
    after: str


@dataclass(frozen=True)
class Merge:
    ticket: Any  # merged away
    target: Any


tickets_created = _signal(
    """``tickets`` (list of Ticket), ``actor``: tickets opened, classified and routed as they
    were inserted (their routing follows as ``tickets_assigned``/``statuses_changed``)."""
)

messages_added = _signal(
    """``messages`` (list of Message, each with its ``ticket``), ``actor``: customer messages,
    replies (recorded, maybe held for approval) and notes."""
)

statuses_changed = _signal("""``changes`` (list of StatusChange), ``actor``.""")

tickets_assigned = _signal("""``changes`` (list of Assignment), ``actor``.""")

tickets_updated = _signal(
    """``changes`` (list of FieldChange), ``actor``: priority, topic, product or pool changed
    on existing tickets."""
)

tickets_merged = _signal("""``merges`` (list of Merge), ``actor``.""")

replies_ready = _signal(
    """``messages`` (list of outbound Message), ``actor``: replies that may leave now, at once
    or because a supervisor approved them (the actor then)."""
)

resolutions_approved = _signal(
    """``tickets`` (list), ``actor``: the customer approved the resolution."""
)

resolutions_rejected = _signal(
    """``tickets`` (list), ``actor``, ``reason``: the customer rejected the resolution; the
    tickets reopened."""
)

presence_changed = _signal(
    """``ticket``, ``user``, ``is_replying``: an agent opened the ticket, or started or stopped
    replying to it (not sent when a mark is only refreshed)."""
)


# Questions, not events: sent at once (inside the transaction), receivers answer.
close_requested = _signal(
    """``ticket``, ``actor``, ``to``: before an agent resolves or closes a ticket; a receiver
    raises ValidationError to refuse (e.g. the pool's disposition form is not filled in).
    Every route goes through change_status, so no route skips it."""
)

reply_requested = _signal(
    """``ticket``, ``actor``, ``confirmed``: before an agent's reply is recorded; a receiver
    raises ValidationError to refuse it unless the agent ``confirmed`` (e.g. the customer's
    address bounced permanently)."""
)

replies_leaving = _signal(
    """``messages`` (list of outbound Message), ``actor``: inside the transaction that lets the
    replies leave (recorded unheld, or approved). The mail app answers by writing their
    outbox rows there, so no crash after commit can lose them."""
)

ticket_panels = _signal(
    """``ticket``, ``user``, ``audience`` ("agent" or "customer"): extra panels on a ticket
    page; each receiver returns a list of tickets.panels.Panel."""
)

ticket_thread = _signal(
    """``ticket``, ``user``, ``messages`` (the thread as loaded for the page): the app that owns
    the ticket's channel may return a tickets.panels.ThreadView to render the thread its own
    way (the chat app: bubbles with delivery state); None leaves the mail thread."""
)

replies_sent_elsewhere = _signal(
    """``ticket``: asked by the mail app before it mails a reply; a receiver returns True when
    it sends the ticket's replies itself (the chat app: the ticket has a conversation), and
    the reply is then not mailed."""
)

contact_panels = _signal(
    """``contact``, ``user`` (an agent), ``place`` ("ticket": the requester card on a ticket
    page, kept short; "contact": the contact's own page): boxes other apps add about a
    customer (survey answers, plans, calls); each receiver returns a list of
    tickets.panels.Panel and shows only what ``user`` may see (tickets of their pools:
    ``Ticket.objects.visible_to(user)``)."""
)
