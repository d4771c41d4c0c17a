"""What customers do on the portal: every lookup is scoped to the signed-in customer.

A ticket or file of another customer is "not found" (Http404), never "forbidden".
Portal messages go through the same services as mail, so mail and portal are one thread.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from people.language import detect_language
from people.models import Contact
from tickets import signals
from tickets.models import Approval, Attachment, Message, Ticket
from tickets.services.audit import announce
from tickets.services.intake import CustomerMail, add_customer_message, receive_customer_messages
from tickets.services.lifecycle import change_status
from tickets.states import OPEN_STATUSES, Channel, Status

# What a customer may read: their own messages and replies that were allowed to leave.
# Internal notes and junior replies waiting for (or returned from) approval never show.
CUSTOMER_VISIBLE_MESSAGES = Q(kind=Message.Kind.INBOUND) | Q(
    kind=Message.Kind.OUTBOUND, approval__in=[Approval.NOT_NEEDED, Approval.APPROVED]
)


def customer_tickets(contact: Contact | None):
    return Ticket.objects.visible_to_contact(contact)


def get_ticket_for_customer(contact: Contact | None, number: str, *, queryset=None) -> Ticket:
    """The ticket if this customer may see it, else Http404."""
    queryset = Ticket.objects.all() if queryset is None else queryset
    return get_object_or_404(queryset.visible_to_contact(contact), number=number)


def customer_messages_queryset():
    return Message.objects.filter(CUSTOMER_VISIBLE_MESSAGES)


def customer_messages(ticket: Ticket):
    return ticket.messages.filter(CUSTOMER_VISIBLE_MESSAGES)


def get_attachment_for_customer(contact: Contact | None, number: str, attachment_id: int):
    """A file of a message the customer can read; a note's file is not found."""
    ticket = get_ticket_for_customer(contact, number)
    visible = customer_messages(ticket).values("pk")
    try:
        return Attachment.objects.select_related("ticket").get(
            pk=attachment_id, ticket=ticket, message__in=visible
        )
    except Attachment.DoesNotExist:
        raise Http404 from None


@transaction.atomic
def open_ticket_from_portal(
    *,
    contact: Contact,
    actor,
    subject: str,
    description: str,
    pool,
    topic=None,
    product=None,
    priority: int | None = None,
    files=(),
) -> Ticket:
    """A customer opens a ticket on the portal: the description is its first message.

    Routed like mail (skill routing, classification of what the customer left empty), by
    the same intake service, in the language the customer wrote in.
    """
    if not description.strip():
        raise ValidationError(_("Describe the problem, please."))
    text = f"{subject}\n{description}"
    mail = CustomerMail(
        contact,
        description,
        files=files,
        subject=subject,
        pool=pool,
        routing_text=description,
        language=detect_language(text, default=contact.language or settings.LANGUAGE_CODE),
        topic=topic,
        product=product,
        priority=priority,
    )
    receive_customer_messages([mail], channel=Channel.PORTAL, actor=actor)
    assert mail.ticket is not None  # noqa: S101 (set by receive_customer_messages)
    return mail.ticket


@transaction.atomic
def reply_from_portal(ticket: Ticket, *, contact: Contact, body: str, files=()) -> Message:
    """The customer writes on the portal: the same message as a mailed one (a closed ticket
    reopens). A cancelled ticket takes no more messages."""
    if not body.strip():
        raise ValidationError(_("The message is empty."))
    if ticket.status == Status.CANCELLED:
        raise ValidationError(_("This ticket was cancelled; open a new one, please."))
    return add_customer_message(ticket, contact=contact, body_text=body, files=files)


@transaction.atomic
def cancel_ticket(ticket: Ticket, *, actor, reason: str = "") -> Ticket:
    """The customer withdraws an open ticket."""
    if ticket.status not in OPEN_STATUSES:
        raise ValidationError(_("Only an open ticket can be cancelled."))
    return change_status(
        ticket, to=Status.CANCELLED, actor=actor, reason=reason or _("Cancelled by the customer.")
    )


def _require_resolved(ticket: Ticket) -> None:
    ticket.refresh_from_db(fields=["status"])
    if ticket.status != Status.RESOLVED:
        raise ValidationError(_("This ticket is not waiting for your approval."))


@transaction.atomic
def approve_resolution(ticket: Ticket, *, actor) -> Ticket:
    """The customer accepts the resolution: the ticket closes. Announces resolutions_approved."""
    _require_resolved(ticket)
    ticket = change_status(
        ticket, to=Status.CLOSED, actor=actor, reason=_("Resolution approved by the customer.")
    )
    announce(signals.resolutions_approved, tickets=[ticket], actor=actor)
    return ticket


@transaction.atomic
def reject_resolution(ticket: Ticket, *, actor, reason: str) -> Ticket:
    """The customer rejects the resolution: the ticket reopens (counted) with their reason.

    The reason is kept in the history (reopened, status) and sent with resolutions_rejected.
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("Tell us why the problem is not solved, please."))
    _require_resolved(ticket)
    ticket = change_status(ticket, to=Status.IN_PROGRESS, actor=actor, reason=reason[:2000])
    announce(signals.resolutions_rejected, tickets=[ticket], actor=actor, reason=reason)
    return ticket
