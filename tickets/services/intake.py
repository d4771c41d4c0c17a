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

from people.roles import is_agent
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
OPENED_BY_AGENT = gettext_noop("Opened by an agent on the customer's behalf.")
CHOSEN_BY_AGENT = gettext_noop("Chosen by the agent who opened the ticket.")
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
    link_reason: str = ""  # the LINKED activity's text (default: a non-participant's mail)
    subject: str = ""
    pool: Any = None
    routing_text: str = ""
    language: str = ""  # the mail's language: routing matches keywords in it
    # The language the caller told from the subject and text ("" when unsure), passed on
    # with tickets_created so the search index does not tell it again; None: not told.
    told_language: str | None = None
    # For a new ticket opened by an agent: its channel (else the batch's), the topic,
    # product and priority they chose (None: classified from the keywords), and whether
    # routing may hand it to a specialist (False: the caller assigns it).
    channel: str = ""
    topic: Any = None
    product: Any = None
    priority: int | None = None
    route: bool = True
    # False: open the ticket without a customer message (an agent writes first).
    record_message: bool = True
    # Filled in by receive_customer_messages.
    message: Message | None = None
    is_new: bool = False
    words: Words | None = field(default=None, repr=False)
    routing: tuple = field(default=(), repr=False)  # (catalog, changes, reasons)


@transaction.atomic
def add_customer_message(
    ticket: Ticket, *, contact, body_text: str, body_html: str = "", files=(), message_id: str = ""
) -> Message:
    """Record what the customer wrote on ``ticket``; a closed ticket reopens (counted)."""
    mail = CustomerMail(contact, body_text, body_html, files, message_id, ticket=ticket)
    receive_customer_messages([mail])
    assert mail.message is not None  # noqa: S101 (set by receive_customer_messages)
    return mail.message


@transaction.atomic
def receive_customer_messages(
    mails: Sequence[CustomerMail], *, channel: str = Channel.EMAIL, actor=None, now=None
) -> None:
    """Open the new tickets, record every message with its files, classify and route.

    Per mail: CREATED, CUSTOMER_MESSAGE, field changes, CLASSIFIED, ROUTED (and ASSIGNED);
    after commit one ``tickets_created`` (the new tickets, inserted classified) and one
    ``messages_added``, then the routing's ``tickets_assigned`` and ``statuses_changed``;
    a closed ticket reopens (``statuses_changed``). Existing tickets are locked in id order
    (no deadlock between two batches). Sets ``ticket``, ``message`` and ``is_new`` on each
    mail (``message`` stays None for a new ticket opened without one).

    ``actor``: the agent who records these on the customers' behalf (phone, walk-in...):
    the history says they opened the tickets and the events name them; a signed-in
    customer (the portal) is named without that note; None for mail. ``now``: when (the
    demo loader's past), else now.
    """
    now = now or timezone.now()
    by_agent = actor is not None and is_agent(actor)
    _check_files(mails)
    new = [mail for mail in mails if mail.ticket is None]
    _open_tickets(new, now=now, channel=channel)
    _touch_existing([mail for mail in mails if not mail.is_new], now=now)
    with_message = [mail for mail in mails if mail.record_message or not mail.is_new]
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
        for mail in with_message
    ]
    Message.objects.bulk_create(messages)
    for mail, message in zip(with_message, messages, strict=True):
        mail.message = message
    _store_files(with_message)
    current: dict[int, Ticket] = {}
    created: list[Ticket] = []
    rows: list[ActivityLog] = []  # one INSERT for the batch's rows, in the order logged
    for mail in mails:
        assert mail.ticket is not None  # noqa: S101 (set above)
        ticket = current.get(mail.ticket.pk, mail.ticket)
        if mail.is_new:
            detail = OPENED_BY_AGENT if by_agent else ""
            rows.append(
                activity_row(
                    ticket, actor=actor, action=Action.CREATED, after=ticket.number, detail=detail
                )
            )
            created.append(ticket)
        if mail.message is not None:
            rows.append(
                activity_row(
                    ticket,
                    actor=actor,
                    action=Action.CUSTOMER_MESSAGE,
                    detail=mail.body_text[:500],
                )
            )
        if not mail.is_new and ticket.status in _REOPENING:
            log_activities(rows)  # before the reopening's own row
            rows = []
            ticket = change_status(
                ticket, to=Status.IN_PROGRESS, actor=None, reason=CUSTOMER_WROTE_REASON
            )
        current[ticket.pk] = mail.ticket = ticket
    linked: dict[str, list] = {}
    for mail in new:
        if mail.link_to is not None:
            reason = mail.link_reason or LINKED_NOT_PARTICIPANT
            linked.setdefault(reason, []).append((mail.ticket, mail.link_to))
    if linked:
        log_activities(rows)  # before the links' own rows
        rows = []
        for reason, pairs in linked.items():
            link_tickets(pairs, actor=None, reason=reason)
    # Before the routing's events: receivers see a new ticket opened before it is taken.
    if created:
        languages = {
            mail.ticket.pk: mail.told_language
            for mail in new
            if mail.told_language is not None and mail.ticket is not None
        }
        announce(signals.tickets_created, tickets=created, actor=actor, languages=languages)
    if with_message:
        announce(
            signals.messages_added, messages=[mail.message for mail in with_message], actor=actor
        )
    _route(new, now=now, rows=rows, actor=actor)


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
            channel=mail.channel or channel,
            created_at=now,
            updated_at=now,
            # Chosen by an agent: classification looks only for what is missing.
            topic=mail.topic,
            product=mail.product,
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
        changes.update(_chosen(mail))
        if mail.topic is not None and mail.priority is None:
            # As a topic found by its keywords: at least the topic's default priority.
            changes["priority"] = max(default_priority, mail.topic.default_priority)
        mail.routing = (catalog, changes, reasons)
        # Inserted classified; logged below as the changes made to a ticket that had none.
        for name, value in changes.items():
            setattr(ticket, name, value)
    Ticket.objects.bulk_create(tickets)


def _chosen(mail: CustomerMail) -> dict[str, Any]:
    """What the agent chose for a new ticket: it wins over what the keywords gave."""
    chosen = {"topic": mail.topic, "product": mail.product, "priority": mail.priority}
    return {name: value for name, value in chosen.items() if value is not None}


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


def _route(new: list[CustomerMail], *, now, rows: list[ActivityLog], actor=None) -> None:
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
        chosen = _chosen(mail)
        for name, value in changes.items():
            if name == "priority" and value == default_priority:
                continue  # update_ticket logs only what changed
            action = _FIELD_ACTIONS[name]
            rows.append(
                activity_row(
                    ticket,
                    actor=actor if name in chosen else None,
                    action=action,
                    before=befores[name],
                    after=str(value),
                    detail=CHOSEN_BY_AGENT if name in chosen and actor and is_agent(actor) else "",
                )
            )
        rows.append(
            activity_row(ticket, actor=None, action=Action.CLASSIFIED, detail=" ".join(reasons))
        )
        if mail.route:
            routes.append((ticket, mail.words, catalog))
    log_activities(rows)
    if routes:
        route_tickets(routes, now=now)
