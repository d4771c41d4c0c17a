"""Which ticket a mail continues: our Message-IDs first, then a signed address, then the tag.

The subject tag is public and Message-IDs travel in forwarded mail, so a match only joins
the ticket when the sender is a participant; processing turns any other match into a new
ticket linked to the old one. A signed reply address proves the sender received our mail.
"""

import re
from dataclasses import dataclass
from typing import Literal

from django.db.models import Q

from mailboxes import tokens
from mailboxes.models import Mailbox, OutgoingEmail
from mailboxes.parsing import ParsedMail
from people.models import ContactEmail
from tickets.models import Message, Ticket

SUBJECT_TAG = re.compile(r"\[#(\d{4}-\d{6,})\]")
Via = Literal["header", "token", "subject"] | None


@dataclass
class ThreadMatch:
    ticket: Ticket | None = None
    via: Via = None

    @property
    def trusted(self) -> bool:
        return self.via == "token"


def find_thread(parsed: ParsedMail, mailbox: Mailbox | None = None) -> ThreadMatch:
    """The ticket this mail answers and how we know; ThreadMatch() when it starts a new one."""
    ticket = _by_headers(parsed.thread_ids)
    if ticket is not None:
        return ThreadMatch(_follow_merge(ticket), "header")
    for address in [*parsed.to, *parsed.cc, *parsed.delivered_to]:
        pk = tokens.ticket_pk_from_address(address)
        if pk:
            ticket = _load(pk)
            if ticket is not None:
                return ThreadMatch(ticket, "token")
    match = SUBJECT_TAG.search(parsed.subject)
    if match:
        ticket = Ticket.objects.filter(number=match.group(1)).first()
        if ticket is not None:
            return ThreadMatch(_follow_merge(ticket), "subject")
    return ThreadMatch()


def is_participant(ticket: Ticket, address: str | None) -> bool:
    """The requester, or a contact who wrote to this ticket before, owns ``address``."""
    if not address:
        return False
    authors = Message.objects.filter(ticket=ticket, kind=Message.Kind.INBOUND).values(
        "author_contact_id"
    )
    return ContactEmail.objects.filter(
        Q(contact_id=ticket.requester_id) | Q(contact_id__in=authors),
        address=address.strip().lower(),
    ).exists()


def _by_headers(thread_ids: list[str]) -> Ticket | None:
    if not thread_ids:
        return None
    rank = {form: position for position, mid in enumerate(thread_ids) for form in _forms(mid)}
    found: list[Message] | list[OutgoingEmail]
    found = list(Message.objects.filter(message_id__in=rank).select_related("ticket"))
    if not found:
        # Only our outbox knows the IDs of mail sent without a Message row (auto-replies).
        found = list(
            OutgoingEmail.objects.filter(message_id__in=rank, ticket__isnull=False).select_related(
                "ticket"
            )
        )
    # The most recent reference wins: In-Reply-To, then References from the newest.
    best = min(found, key=lambda row: rank.get(row.message_id, len(rank)), default=None)
    return best.ticket if best is not None else None


def _load(pk: int) -> Ticket | None:
    ticket = Ticket.objects.filter(pk=pk).first()
    return _follow_merge(ticket) if ticket is not None else None


def _follow_merge(ticket: Ticket) -> Ticket:
    seen = {ticket.pk}
    while ticket.merged_into_id and ticket.merged_into_id not in seen:
        seen.add(ticket.merged_into_id)
        ticket = Ticket.objects.get(pk=ticket.merged_into_id)
    return ticket


def _forms(message_id: str) -> tuple[str, str]:
    bare = message_id.strip().strip("<>")
    return f"<{bare}>", bare
