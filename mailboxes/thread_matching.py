"""Which ticket a mail continues: our Message-IDs first, then a signed address, then the tag.

The subject tag is public and Message-IDs travel in forwarded mail, so a match only joins
the ticket when the sender is a participant; processing turns any other match into a new
ticket linked to the old one. A signed reply address proves the sender received our mail.

``decide`` is the one place that turns a match into what happens to the mail (join, a
linked ticket, or held for review when it fails DMARC): processing and batches both ask it.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from mailboxes import signals as mail_signals
from mailboxes import tokens
from mailboxes.authentication import dmarc_result
from mailboxes.models import Mailbox, OutgoingEmail
from mailboxes.parsing import ParsedMail
from tickets.models import Message, Ticket

SUBJECT_TAG = re.compile(r"\[#(\d{4}-\d{6,})\]")
Via = Literal["header", "token", "subject"] | None
Decision = Literal["new", "join", "outsider", "hold"]


@dataclass
class ThreadMatch:
    ticket: Ticket | None = None
    via: Via = None

    @property
    def trusted(self) -> bool:
        return self.via == "token"


@dataclass
class ThreadLookup:
    """What find_thread reads, fetched for many mails at once (see thread_lookup)."""

    messages: dict[str, list[Message]] = field(default_factory=dict)
    outgoing: dict[str, list[OutgoingEmail]] = field(default_factory=dict)
    tickets: dict[int, Ticket] = field(default_factory=dict)
    numbers: dict[str, Ticket] = field(default_factory=dict)


def _token_pks(parsed: ParsedMail) -> list[int]:
    pks = []
    for address in [*parsed.to, *parsed.cc, *parsed.delivered_to]:
        pk = tokens.ticket_pk_from_address(address)
        if pk:
            pks.append(pk)
    return pks


def thread_lookup(mails: Iterable[ParsedMail]) -> ThreadLookup:
    """Every row find_thread may need for these mails: four queries whatever their number."""
    forms: set[str] = set()
    pks: set[int] = set()
    numbers: set[str] = set()
    for parsed in mails:
        forms.update(form for mid in parsed.thread_ids for form in _forms(mid))
        pks.update(_token_pks(parsed))
        match = SUBJECT_TAG.search(parsed.subject)
        if match:
            numbers.add(match.group(1))
    lookup = ThreadLookup()
    ticket_pks = set(pks)
    if forms:
        # The same order find_thread's own query reads them in (Message.Meta.ordering).
        # Tickets are read apart, by primary key: a join here tempts the planner into
        # scanning both tables when its statistics are behind.
        messages = Message.objects.filter(message_id__in=forms).only(
            "pk", "ticket_id", "message_id", "created_at"
        )
        for message in messages:
            lookup.messages.setdefault(message.message_id, []).append(message)
            ticket_pks.add(message.ticket_id)
        outgoing = OutgoingEmail.objects.filter(message_id__in=forms, ticket__isnull=False).only(
            "pk", "ticket_id", "message_id", "created_at"
        )
        for row in outgoing.order_by("-created_at", "pk"):
            lookup.outgoing.setdefault(row.message_id, []).append(row)
            ticket_pks.add(row.ticket_id or 0)  # never None: filtered above
    if ticket_pks:
        tickets = Ticket.objects.in_bulk(ticket_pks)
        lookup.tickets = {pk: tickets[pk] for pk in pks if pk in tickets}
        for row in [*_rows(lookup.messages), *_rows(lookup.outgoing)]:
            row.ticket = tickets[row.ticket_id]
    if numbers:
        lookup.numbers = Ticket.objects.in_bulk(numbers, field_name="number")
    return lookup


def _rows(by_id: dict) -> list:
    return [row for rows in by_id.values() for row in rows]


def find_thread(
    parsed: ParsedMail, mailbox: Mailbox | None = None, *, lookup: ThreadLookup | None = None
) -> ThreadMatch:
    """The ticket this mail answers and how we know; ThreadMatch() when it starts a new one.

    ``lookup``: rows read beforehand for many mails (thread_lookup); same answer, no query
    unless a ticket was merged.
    """
    ticket = _by_headers(parsed.thread_ids, lookup)
    if ticket is not None:
        return ThreadMatch(_follow_merge(ticket), "header")
    for pk in _token_pks(parsed):
        ticket = (
            lookup.tickets.get(pk) if lookup is not None else Ticket.objects.filter(pk=pk).first()
        )
        if ticket is not None:
            return ThreadMatch(_follow_merge(ticket), "token")
    match = SUBJECT_TAG.search(parsed.subject)
    if match:
        number = match.group(1)
        if lookup is not None:
            ticket = lookup.numbers.get(number)
        else:
            ticket = Ticket.objects.filter(number=number).first()
        if ticket is not None:
            return ThreadMatch(_follow_merge(ticket), "subject")
    return ThreadMatch()


def decide(
    match: ThreadMatch,
    parsed: ParsedMail,
    mailbox: Mailbox,
    *,
    contact,
    participants: dict[int, set[str]],
    check_dmarc: bool = True,
) -> Decision:
    """What to do with a mail from ``contact`` (its sender) given its thread ``match``.

    "new": it starts a ticket. "join": it continues ``match.ticket``. "outsider": it refers
    to a ticket its sender takes no part in (a linked ticket, or a consulted department's
    answer). "hold": it would join (as a participant's reply, or as the answer of someone
    the ticket waits for), but the mailbox's trusted receiving server says it failed
    DMARC, so the address in its From is not proven: an agent of the ticket's pool
    releases or rejects it.

    A signed reply address never holds: the token proves the sender has our mail to that
    ticket (it is as good as a password), whatever the From says. A match by our
    Message-IDs does hold: Message-IDs are not secret (they travel in every References
    header of the thread, in forwards and on lists), so they prove as little as the tag.
    ``participants``: ``participants_of`` the batch's matched tickets.
    ``check_dmarc=False``: an agent released the mail; decide as if it had passed.
    """
    ticket = match.ticket
    if ticket is None:
        return "new"
    if match.trusted:
        return "join"
    failed = (
        check_dmarc
        and dmarc_result(parsed.authentication_results, mailbox.trusted_authserv_id) == "fail"
    )
    # The contact owns this address (unique), so being the requester makes the sender a
    # participant whatever address of theirs wrote.
    address = (parsed.from_address or "").strip().lower()
    if contact.pk == ticket.requester_id or address in participants.get(ticket.pk, ()):
        return "hold" if failed else "join"
    if failed and _expected(ticket, parsed.from_address):
        return "hold"  # e.g. a consulted department's "answer" in someone else's name
    return "outsider"


def _expected(ticket: Ticket, address: str | None) -> bool:
    responses = mail_signals.expects_reply_from.send(
        sender=Mailbox, ticket=ticket, from_address=address or ""
    )
    return any(answer is True for _receiver, answer in responses)


def participants_of(tickets: Iterable[Ticket]) -> dict[int, set[str]]:
    """Ticket pk → the addresses of its requester and of every contact who wrote to it.

    One query for all the tickets of a batch.
    """
    pks = {ticket.pk for ticket in tickets}
    if not pks:
        return {}
    requesters = Ticket.objects.filter(pk__in=pks).values_list("pk", "requester__emails__address")
    authors = Message.objects.filter(ticket_id__in=pks, kind=Message.Kind.INBOUND).values_list(
        "ticket_id", "author_contact__emails__address"
    )
    found: dict[int, set[str]] = {}
    for pk, address in requesters.order_by().union(authors.order_by()).order_by():
        if address:
            found.setdefault(pk, set()).add(address)
    return found


def _by_headers(thread_ids: list[str], lookup: ThreadLookup | None = None) -> Ticket | None:
    if not thread_ids:
        return None
    rank = {form: position for position, mid in enumerate(thread_ids) for form in _forms(mid)}
    found: list[Message] | list[OutgoingEmail]
    if lookup is not None:
        found = _in_order([row for form in rank for row in lookup.messages.get(form, ())])
        if not found:
            found = [row for form in rank for row in lookup.outgoing.get(form, ())]
            found = sorted(found, key=lambda row: (-row.created_at.timestamp(), row.pk))
    else:
        found = list(Message.objects.filter(message_id__in=rank).select_related("ticket"))
    if not found and lookup is None:
        # Only our outbox knows the IDs of mail sent without a Message row (auto-replies).
        found = list(
            OutgoingEmail.objects.filter(message_id__in=rank, ticket__isnull=False).select_related(
                "ticket"
            )
        )
    # The most recent reference wins: In-Reply-To, then References from the newest.
    best = min(found, key=lambda row: rank.get(row.message_id, len(rank)), default=None)
    return best.ticket if best is not None else None


def _in_order(messages: list[Message]) -> list[Message]:
    # Message.Meta.ordering, so that ties between equal ranks go the same way as the query's.
    return sorted(messages, key=lambda message: (message.created_at, message.pk))


def _follow_merge(ticket: Ticket) -> Ticket:
    seen = {ticket.pk}
    while ticket.merged_into_id and ticket.merged_into_id not in seen:
        seen.add(ticket.merged_into_id)
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
    return ticket


def _forms(message_id: str) -> tuple[str, str]:
    bare = message_id.strip().strip("<>")
    return f"<{bare}>", bare
