"""Tickets an agent opens for customers: a phone call, a visit, a first mail we send.

The tickets enter by the intake path (``receive_customer_messages``), so numbering,
classification, routing, SLA, notifications and events are the ones mail gets; the history
names the agent. With an outbound email the agent's text is the ticket's first reply
(``add_reply``): a junior's waits for approval, and the mail app sends it as the first
message of the ticket, with its number, in the customer's language.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from people.models import Contact, ContactEmail
from people.roles import is_agent
from people.services import ContactDetails, create_contacts
from tickets.models import Message, Pool, Ticket
from tickets.services.intake import CustomerMail, receive_customer_messages
from tickets.services.lifecycle import assign_ticket
from tickets.services.messages import add_reply
from tickets.states import AGENT_CHANNELS, Channel


@dataclass
class AgentTicket:
    """One ticket to open: for ``contact``, or for a contact made from ``new_contact``."""

    subject: str
    description: str
    pool: Pool
    channel: str = Channel.PHONE
    contact: Contact | None = None
    new_contact: ContactDetails | None = None
    topic: Any = None
    product: Any = None
    priority: int | None = None  # None: from the topic, as for mail
    files: Sequence = ()
    assignee: Any = None  # None: routing decides, as for mail
    # Filled in by open_agent_tickets.
    ticket: Ticket | None = None
    message: Message | None = None  # the customer's words, or the agent's first mail


@transaction.atomic
def open_agent_tickets(requests: Sequence[AgentTicket], *, actor) -> list[Ticket]:
    """Open a ticket per request on the customers' behalf; returns the tickets.

    Only in pools ``actor`` works in (PermissionDenied otherwise). New contacts are made
    first; phone, walk-in and the like record the description as the customer's message;
    an outbound email records it as ``actor``'s reply (a junior's waits for approval) and
    needs the customer's address. A chosen technician gets the ticket instead of routing.
    One transaction: a refused request opens nothing. Not idempotent (each call opens).
    """
    if not is_agent(actor):
        raise PermissionDenied
    _check(requests, actor=actor)
    made = create_contacts([r.new_contact for r in requests if r.new_contact is not None])
    for request in (r for r in requests if r.new_contact is not None):
        request.contact = made.pop(0)
    _check_addresses([r for r in requests if r.channel == Channel.OUTBOUND_EMAIL])
    mails = [
        CustomerMail(
            contact=request.contact,
            body_text=request.description,
            files=() if request.channel == Channel.OUTBOUND_EMAIL else request.files,
            subject=request.subject,
            pool=request.pool,
            routing_text=request.description,
            language=request.contact.language if request.contact else "",
            channel=request.channel,
            topic=request.topic,
            product=request.product,
            priority=request.priority,
            route=request.assignee is None,
            record_message=request.channel != Channel.OUTBOUND_EMAIL,
        )
        for request in requests
    ]
    receive_customer_messages(mails, channel=Channel.AGENT, actor=actor)
    for request, mail in zip(requests, mails, strict=True):
        assert mail.ticket is not None  # noqa: S101 (set by the intake)
        ticket, request.message = mail.ticket, mail.message
        if request.assignee is not None:
            ticket = assign_ticket(ticket, agent=request.assignee, actor=actor)
        if request.channel == Channel.OUTBOUND_EMAIL:
            request.message = add_reply(
                ticket, author=actor, body=request.description, files=request.files
            )
        request.ticket = ticket
    return [request.ticket for request in requests if request.ticket is not None]


def _check(requests: Sequence[AgentTicket], *, actor) -> None:
    usable = set(
        Pool.objects.usable_by(actor)
        .filter(active=True, pk__in={r.pool.pk for r in requests})
        .values_list("pk", flat=True)
    )
    for request in requests:
        if request.pool.pk not in usable:
            raise PermissionDenied  # a pool they do not work in: as if it did not exist
        if request.channel not in AGENT_CHANNELS:
            raise ValidationError(_("Choose how the customer reached us."))
        if (request.contact is None) == (request.new_contact is None):
            raise ValidationError(_("Choose a contact or add a new one."))
        if not request.subject.strip():
            raise ValidationError(_("The ticket needs a subject."))
        if not request.description.strip():
            raise ValidationError(_("Describe what the customer needs."))


def _check_addresses(outbound: list[AgentTicket]) -> None:
    if not outbound:
        return
    reachable = set(
        ContactEmail.objects.filter(
            contact_id__in=[r.contact.pk for r in outbound if r.contact]
        ).values_list("contact_id", flat=True)
    )
    for request in outbound:
        if request.contact is None or request.contact.pk not in reachable:
            raise ValidationError(
                _("An outbound email needs the customer's email address: add one to the contact.")
            )
