"""Many customer messages at once: the set-based form of opening tickets and adding mail.

``receive_customer_messages`` does for a list of messages what ``create_ticket`` +
``add_customer_message`` + ``route_ticket`` do for one, with the same rows, the same
activity log and the same domain events, but one INSERT per table for the whole list:
mail ingestion spends its time in round trips and ORM overhead, not in the database.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from tickets import signals
from tickets.models import ActivityLog, Attachment, Message, Ticket
from tickets.services.audit import activity_row, announce, log_activities
from tickets.services.lifecycle import change_status, link_tickets
from tickets.services.messages import CUSTOMER_WROTE_REASON, unsaved_attachment
from tickets.services.numbering import next_ticket_numbers
from tickets.services.routing import Words, classification, route_tickets, routing_catalog
from tickets.states import Channel, Status

Action = ActivityLog.Action
LINKED_NOT_PARTICIPANT = gettext_noop(
    "Mail from a sender who is not a participant referred to this ticket."
)
_REOPENING = (Status.RESOLVED, Status.CLOSED, Status.WAITING_CUSTOMER)
_FIELD_ACTIONS = {"topic": Action.TOPIC, "priority": Action.PRIORITY, "product": Action.PRODUCT}


@dataclass
class CustomerMail:
    """One customer message to record: on ``ticket``, or on a new ticket when it is None."""

    contact: Any
    body_text: str
    body_html: str = ""
    files: Sequence = ()
    message_id: str = ""
    ticket: Ticket | None = None
    # For a new ticket: the ticket it is linked to (a non-participant's mail about it), its
    # subject and pool, and the text routing reads besides the subject.
    link_to: Ticket | None = None
    subject: str = ""
    pool: Any = None
    routing_text: str = ""
    language: str = ""  # the mail's language: routing matches keywords in it
    # Filled in by receive_customer_messages.
    message: Message | None = None
    is_new: bool = False
    words: Words | None = field(default=None, repr=False)
    routing: tuple = field(default=(), repr=False)  # (catalog, changes, reasons)


@transaction.atomic
def receive_customer_messages(
    mails: Sequence[CustomerMail], *, channel: str = Channel.EMAIL
) -> None:
    """Open the new tickets, record every message with its files, classify and route.

    Per mail: CREATED, CUSTOMER_MESSAGE, field changes, CLASSIFIED, ROUTED (and ASSIGNED);
    after commit one ``tickets_created`` (the new tickets, inserted classified) and one
    ``messages_added``, then the routing's ``tickets_assigned`` and ``statuses_changed``;
    a closed ticket reopens (``statuses_changed``). Existing tickets are locked in id order
    (no deadlock between two batches). Sets ``ticket``, ``message`` and ``is_new`` on each
    mail.
    """
    now = timezone.now()
    _check_files(mails)
    new = [mail for mail in mails if mail.ticket is None]
    _open_tickets(new, now=now, channel=channel)
    _touch_existing([mail for mail in mails if not mail.is_new], now=now)
    messages = [
        Message(
            ticket=mail.ticket,
            kind=Message.Kind.INBOUND,
            author_contact=mail.contact,
            body_text=mail.body_text,
            body_html=mail.body_html,
            message_id=mail.message_id,
            created_at=now,
        )
        for mail in mails
    ]
    Message.objects.bulk_create(messages)
    for mail, message in zip(mails, messages, strict=True):
        mail.message = message
    _store_files(mails)
    current: dict[int, Ticket] = {}
    created: list[Ticket] = []
    rows: list[ActivityLog] = []  # one INSERT for the batch's rows, in the order logged
    for mail in mails:
        assert mail.ticket is not None and mail.message is not None  # noqa: S101 (set above)
        ticket = current.get(mail.ticket.pk, mail.ticket)
        if mail.is_new:
            rows.append(
                activity_row(ticket, actor=None, action=Action.CREATED, after=ticket.number)
            )
            created.append(ticket)
        rows.append(
            activity_row(
                ticket, actor=None, action=Action.CUSTOMER_MESSAGE, detail=mail.body_text[:500]
            )
        )
        if not mail.is_new and ticket.status in _REOPENING:
            log_activities(rows)  # before the reopening's own row
            rows = []
            ticket = change_status(
                ticket, to=Status.IN_PROGRESS, actor=None, reason=CUSTOMER_WROTE_REASON
            )
        current[ticket.pk] = mail.ticket = ticket
    linked = [(mail.ticket, mail.link_to) for mail in new if mail.link_to is not None]
    if linked:
        log_activities(rows)  # before the links' own rows
        rows = []
        link_tickets(linked, actor=None, reason=LINKED_NOT_PARTICIPANT)
    # Before the routing's events: receivers see a new ticket opened before it is taken.
    if created:
        announce(signals.tickets_created, tickets=created, actor=None)
    if mails:
        announce(signals.messages_added, messages=[mail.message for mail in mails], actor=None)
    _route(new, now=now, rows=rows)


def _check_files(mails: Sequence[CustomerMail]) -> None:
    for mail in mails:
        for upload in mail.files:
            if upload.size > settings.TICKET_ATTACHMENT_MAX_BYTES:
                raise ValidationError(
                    _("%(name)s is larger than the %(limit)d MB limit.")
                    % {
                        "name": upload.name,
                        "limit": settings.TICKET_ATTACHMENT_MAX_BYTES // 2**20,
                    }
                )


def _open_tickets(new: list[CustomerMail], *, now, channel: str) -> None:
    """Classify in memory, then insert every new ticket, numbered, in one statement."""
    if not new:
        return
    default_priority = Ticket._meta.get_field("priority").default
    catalogs: dict[int, Any] = {}
    tickets = []
    for mail in new:
        ticket = Ticket(
            subject=mail.subject.strip()[:255] or _("(no subject)"),
            pool=mail.pool,
            requester=mail.contact,
            priority=default_priority,
            channel=channel,
            created_at=now,
            updated_at=now,
        )
        if mail.pool.pk not in catalogs:
            catalogs[mail.pool.pk] = routing_catalog(mail.pool.pk)
        mail.words = Words(f"{ticket.subject}\n{mail.routing_text}", mail.language)
        mail.ticket, mail.is_new = ticket, True
        tickets.append(ticket)
    # The sequence row stays locked until commit: numbered as late as possible.
    for ticket, number in zip(tickets, next_ticket_numbers(len(tickets), now), strict=True):
        ticket.number = number
    for mail, ticket in zip(new, tickets, strict=True):
        catalog = catalogs[ticket.pool_id]
        assert mail.words is not None  # noqa: S101 (set above)
        changes, reasons = classification(ticket, mail.words, catalog)
        mail.routing = (catalog, changes, reasons)
        # Inserted classified; logged below as the changes made to a ticket that had none.
        for name, value in changes.items():
            setattr(ticket, name, value)
    Ticket.objects.bulk_create(tickets)


def _touch_existing(mails: list[CustomerMail], *, now) -> None:
    """Lock the tickets that get a reply (in id order), bump updated_at, use the current rows."""
    pks = sorted({mail.ticket.pk for mail in mails if mail.ticket is not None})
    if not pks:
        return
    locked = {
        ticket.pk: ticket
        for ticket in Ticket.objects.select_for_update().filter(pk__in=pks).order_by("pk")
    }
    Ticket.objects.filter(pk__in=pks).update(updated_at=now)
    for mail in mails:
        assert mail.ticket is not None  # noqa: S101 (filtered above)
        ticket = locked.get(mail.ticket.pk)
        if ticket is None:
            raise Ticket.DoesNotExist(f"Ticket {mail.ticket.pk} does not exist.")
        ticket.updated_at = now
        mail.ticket = ticket


def _store_files(mails: Sequence[CustomerMail]) -> None:
    attachments = [
        unsaved_attachment(mail.ticket, mail.message, upload)
        for mail in mails
        for upload in mail.files
    ]
    if attachments:
        Attachment.objects.bulk_create(attachments)


def _route(new: list[CustomerMail], *, now, rows: list[ActivityLog]) -> None:
    """The log rows update_ticket writes for the new tickets' classification, then routing.

    ``rows``: the batch's rows not written yet; they go in with these, in one INSERT.

    The classification is no event: the tickets were inserted classified (``tickets_created``).
    """
    default_priority = Ticket._meta.get_field("priority").default
    befores = {"topic": "", "product": "", "priority": str(default_priority)}
    routes = []
    for mail in new:
        ticket = mail.ticket
        assert ticket is not None and mail.words is not None  # noqa: S101 (a new ticket)
        catalog, changes, reasons = mail.routing
        for name, value in changes.items():
            if name == "priority" and value == default_priority:
                continue  # update_ticket logs only what changed
            action = _FIELD_ACTIONS[name]
            rows.append(
                activity_row(
                    ticket, actor=None, action=action, before=befores[name], after=str(value)
                )
            )
        rows.append(
            activity_row(ticket, actor=None, action=Action.CLASSIFIED, detail=" ".join(reasons))
        )
        routes.append((ticket, mail.words, catalog))
    log_activities(rows)
    if routes:
        route_tickets(routes, now=now)
