"""Notification mail: admin rules per event pick the recipients; everything goes to the outbox.

One OutgoingEmail per recipient (each in their own language, no address sees another).
Never to robots: our own addresses, no-reply style addresses, and requesters whose mail
was automatic or from a list (the loop-protection checks of ``mailboxes.loops``).
What is already mailed is not mailed twice: an agent's reply goes to the customer as the
reply itself, and a mailed-in ticket is acknowledged by its mailbox's auto-reply.
"""

import logging
import re
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesHeaderParser
from email.utils import formataddr, parseaddr
from typing import Any
from urllib.parse import urljoin

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Min, Q
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from mailboxes import loops
from mailboxes.edited_mail import name_of, ticket_values
from mailboxes.emails import RenderedEmail, language_of, render_email, render_files
from mailboxes.models import (
    Mailbox,
    NotificationRule,
    OutgoingEmail,
    RawMessage,
)
from mailboxes.outbound import _sender, _thread_headers, enqueue_outgoing
from mailboxes.parsing import ParsedMail
from mailboxes.suppression import is_suppressed
from mailboxes.tokens import make_reply_address
from people.roles import SEE_ALL_POOLS
from tickets.models import Message, Ticket
from tickets.states import Channel

logger = logging.getLogger(__name__)

Event = NotificationRule.Event
NOTIFICATION_HEADERS = {"Auto-Submitted": "auto-generated", "X-Auto-Response-Suppress": "All"}
HEADER_LIMIT = 64 * 1024
_ROBOT_LOCAL_PART = re.compile(
    r"^(no-?reply|do-?not-?reply|mailer-daemon|postmaster|bounces?|daemon|auto-?reply)([+._-]|$)",
    re.I,
)

# What each event says, in the reader's language.
EVENT_SENTENCES: dict[str, Any] = {
    Event.TICKET_OPENED: _("A new ticket was opened."),
    Event.TICKET_TAKEN: _("%(actor)s took the ticket."),
    Event.TICKET_STARTED: _("Work on the ticket has started."),
    Event.CUSTOMER_MESSAGE: _("The customer wrote a new message."),
    Event.AGENT_MESSAGE: _("%(actor)s replied to the customer."),
    Event.TICKET_RESOLVED: _("The ticket was resolved. Please confirm that the problem is solved."),
    Event.RESOLUTION_APPROVED: _("The customer approved the resolution; the ticket is closed."),
    Event.RESOLUTION_REJECTED: _("The customer rejected the resolution; the ticket is reopened."),
    Event.SURVEY_ANSWERED: _("The customer answered the satisfaction survey."),
    Event.TICKET_CANCELLED: _("The ticket was cancelled."),
}


# What the customer reads instead, for the events they are told about.
CUSTOMER_SENTENCES: dict[str, Any] = {
    Event.TICKET_OPENED: _("We received your ticket and will answer as soon as we can."),
    Event.TICKET_TAKEN: _("%(actor)s is now looking after your ticket."),
    Event.TICKET_STARTED: _("We started working on your ticket."),
    Event.TICKET_RESOLVED: _(
        "We think your problem is solved. Please tell us on the portal whether it is: "
        "approve the resolution, or reject it and tell us what is still wrong."
    ),
    Event.TICKET_CANCELLED: _("Your ticket was cancelled."),
}


@dataclass
class Recipient:
    address: str
    name: str
    language: str
    is_customer: bool = False


@dataclass
class EventInfo:
    event: str
    ticket: Ticket
    actor: object = None
    message_text: str = ""
    reason: str = ""
    extra: dict = field(default_factory=dict)


# --- robots ---------------------------------------------------------------------------------


def own_addresses() -> set[str]:
    """Every address we send from (mailboxes and the default sender), lower-cased; one query."""
    addresses = set(Mailbox.objects.values_list("from_address", flat=True))
    addresses |= {
        parseaddr(sender)[1] for sender in (settings.DEFAULT_FROM_EMAIL, settings.SERVER_EMAIL)
    }
    return {address.lower() for address in addresses if address}


def is_robot_address(address: str, *, ours: set[str] | None = None) -> bool:
    """Our own mailboxes, and addresses that announce a program (no-reply, mailer-daemon...)."""
    address = address.strip().lower()
    if "@" not in address:
        return True
    local = address.rpartition("@")[0]
    if _ROBOT_LOCAL_PART.match(local):
        return True
    return loops.is_own_address(address, own_addresses() if ours is None else ours)


def _first_mail_headers(ticket: Ticket) -> ParsedMail | None:
    raw = RawMessage.objects.filter(ticket=ticket).order_by("received_at", "pk").first()
    if raw is None or not raw.file:
        return None
    try:
        with raw.file.open("rb") as stored:
            head = stored.read(HEADER_LIMIT).split(b"\r\n\r\n")[0].split(b"\n\n")[0]
        headers = BytesHeaderParser(policy=policy.compat32).parsebytes(head)
    except (OSError, ValueError):
        return None

    def text(name: str) -> str:
        return " ".join(str(headers.get(name, "")).split()).lower()

    return ParsedMail(
        from_address=raw.sender or None,
        auto_submitted=text("auto-submitted"),
        precedence=text("precedence"),
        x_autoreply=text("x-autoreply"),
        x_autorespond=text("x-autorespond"),
        x_auto_response_suppress=text("x-auto-response-suppress"),
        list_id=text("list-id"),
        list_unsubscribe=text("list-unsubscribe"),
        return_path=text("return-path"),
    )


def requester_is_robot(ticket: Ticket, address: str) -> bool:
    """The requester is a program: a robot address, or their mail was automatic or a list."""
    if is_robot_address(address):
        return True
    if ticket.channel != Channel.EMAIL:
        return False
    parsed = _first_mail_headers(ticket)
    return parsed is not None and not loops.may_auto_reply(parsed)


# --- recipients -----------------------------------------------------------------------------


def _agent_recipient(user) -> Recipient | None:
    if not user.is_active or not user.email:
        return None
    return Recipient(
        address=user.email.strip().lower(),
        name=user.get_full_name() or user.get_username(),
        language=language_of(user),
    )


def _skips_requester(info: EventInfo) -> bool:
    # Already mailed, or the customer did it themselves.
    if info.event == Event.TICKET_OPENED:
        return info.ticket.channel == Channel.EMAIL  # the mailbox's auto-reply answers those
    return info.event in (
        Event.AGENT_MESSAGE,  # the reply itself is the mail
        Event.CUSTOMER_MESSAGE,
        Event.RESOLUTION_APPROVED,
        Event.RESOLUTION_REJECTED,
        Event.SURVEY_ANSWERED,
    )


def _agents_for(rule: NotificationRule, ticket: Ticket) -> list:
    query = Q()
    if rule.to_assignee and ticket.assignee_id:
        query |= Q(pk=ticket.assignee_id)
    if rule.to_manager and ticket.manager_id:
        query |= Q(pk=ticket.manager_id)
    if rule.to_watchers:
        query |= Q(watched_tickets=ticket)
    if rule.to_pool_members:
        query |= Q(pool_memberships__pool_id=ticket.pool_id)
    if rule.to_supervisors:
        app_label, codename = SEE_ALL_POOLS.split(".")
        query |= Q(
            groups__permissions__codename=codename,
            groups__permissions__content_type__app_label=app_label,
        ) | Q(
            user_permissions__codename=codename,
            user_permissions__content_type__app_label=app_label,
        )
    if not query:
        return []
    users = get_user_model().objects.filter(query, is_active=True).exclude(email="")
    return list(users.select_related("agent_profile").distinct().order_by("pk"))


def recipients_for(rule: NotificationRule, info: EventInfo) -> list[Recipient]:
    """Everyone the rule names for this ticket, minus the actor, robots and duplicates."""
    ticket = info.ticket
    found: dict[str, Recipient] = {}
    actor_id = getattr(info.actor, "pk", None)
    for user in _agents_for(rule, ticket):
        recipient = _agent_recipient(user)
        if recipient is not None and user.pk != actor_id:
            found.setdefault(recipient.address, recipient)
    requester = ticket.requester
    # Nobody is told what they did themselves; a new ticket's acknowledgement is the exception.
    requester_acted = (
        requester is not None
        and actor_id is not None
        and requester.user_id == actor_id
        and info.event != Event.TICKET_OPENED
    )
    if (
        rule.to_requester
        and requester is not None
        and not requester_acted
        and not _skips_requester(info)
    ):
        address = requester.primary_email
        if address and not requester_is_robot(ticket, address):
            found[address] = Recipient(
                address=address,
                name=requester.name,
                language=language_of(requester, mailbox=_sender(ticket)[0]),
                is_customer=True,
            )
    if not found:
        return []  # no query for our own addresses
    ours = own_addresses()
    return [item for item in found.values() if not is_robot_address(item.address, ours=ours)]


# --- rules and text -------------------------------------------------------------------------


def rules_for(event: str, pool_ids) -> dict[int, NotificationRule]:
    """The rule of each pool for the event (the pool's own, else the one for every pool),
    in one query: pool id → its rule, for the pools where it is on."""
    pool_ids = set(pool_ids)
    rules = NotificationRule.objects.filter(
        Q(pool_id__in=pool_ids) | Q(pool__isnull=True), event=event
    ).order_by()
    own = {rule.pool_id: rule for rule in rules if rule.pool_id is not None}
    everywhere = next((rule for rule in rules if rule.pool_id is None), None)
    found = {pool_id: own.get(pool_id, everywhere) for pool_id in pool_ids}
    return {pool_id: rule for pool_id, rule in found.items() if rule is not None and rule.enabled}


@dataclass
class Notice:
    """One ticket an event is about, with what its notification says besides."""

    ticket: Ticket
    message_text: str = ""
    reason: str = ""
    extra: dict = field(default_factory=dict)


def notify(event: str, items, *, actor=None) -> list[OutgoingEmail]:
    """Mail everyone the event's rule names, for each Notice; returns the outbox rows.

    The rules of all the items' pools are read in one query (one query in all when the
    event is off everywhere). Called once per event after the change committed; not
    idempotent (each call queues mail). One ticket's broken template or address is logged
    and costs only that ticket its mail.
    """
    items = list(items)
    rules = rules_for(event, {item.ticket.pool_id for item in items})
    queued = []
    for item in items:
        rule = rules.get(item.ticket.pool_id)
        if rule is None:
            continue
        try:
            queued += _notify_ticket(event, item, rule=rule, actor=actor)
        except Exception:
            logger.exception("notification %s for ticket %s failed", event, item.ticket.pk)
    return queued


def notify_customer_messages(messages, *, actor=None) -> list[OutgoingEmail]:
    """The ``customer_message`` notifications of many messages.

    A ticket's first message is the ticket itself ("ticket opened" tells it), and only
    inbound messages count. One query when the rule is off, two before any mail otherwise.
    """
    inbound = [message for message in messages if message.kind == Message.Kind.INBOUND]
    rules = rules_for(Event.CUSTOMER_MESSAGE, {message.ticket.pool_id for message in inbound})
    inbound = [message for message in inbound if message.ticket.pool_id in rules]
    if not inbound:
        return []
    firsts = dict(
        Message.objects.filter(
            ticket_id__in={message.ticket_id for message in inbound}, kind=Message.Kind.INBOUND
        )
        .values("ticket_id")
        .annotate(first=Min("pk"))
        .values_list("ticket_id", "first")
        .order_by()
    )
    notices = [
        Notice(message.ticket, message_text=message.body_text)
        for message in inbound
        if firsts.get(message.ticket_id) != message.pk
    ]
    return notify(Event.CUSTOMER_MESSAGE, notices, actor=actor)


def _link(recipient: Recipient, ticket: Ticket) -> str:
    name = "portal:detail" if recipient.is_customer else "tickets:detail"
    return urljoin(settings.SITE_URL, reverse(name, args=[ticket.number]))


def notification_email(info: EventInfo, recipient: Recipient) -> RenderedEmail:
    """One recipient's mail about an event, in their language (the pool's text, else ours)."""
    ticket = info.ticket
    context = {
        "ticket": ticket,
        "event": info.event,
        "recipient_name": recipient.name,
        "is_customer": recipient.is_customer,
        "actor_name": name_of(info.actor),
        "message_text": info.message_text,
        "reason": info.reason,
        "link": _link(recipient, ticket),
        **info.extra,
    }
    with translation.override(recipient.language):
        sentences = EVENT_SENTENCES
        if recipient.is_customer and info.event in CUSTOMER_SENTENCES:
            sentences = CUSTOMER_SENTENCES
        context["sentence"] = str(sentences[info.event]) % {
            "actor": context["actor_name"] or _("An agent")
        }
        context["event_label"] = str(NotificationRule.Event(info.event).label)
    return render_email(
        f"notification.{info.event}",
        language=recipient.language,
        pool_id=ticket.pool_id,
        context=context,
        values=lambda context: {**context, "ticket": ticket_values(ticket, url=context["link"])},
    )


# --- queueing -------------------------------------------------------------------------------


def _enqueue(outgoing: OutgoingEmail) -> OutgoingEmail:
    enqueue_outgoing(outgoing.pk, internal=outgoing.internal)
    return outgoing


def queue_automatic_email(
    *,
    to_address: str,
    rendered: RenderedEmail,
    ticket: Ticket | None = None,
    to_customer: bool = True,
    requested: bool = False,
) -> OutgoingEmail | None:
    """Put one automatic mail in the outbox (marked Auto-Submitted); sent after commit.

    A customer's copy comes from the ticket's mailbox, threads with the ticket and can be
    answered; an agent's copy does not carry the ticket's reply address. None for an
    address suppressed after a permanent bounce, unless the person ``requested`` this very
    mail (a sign-in link).
    """
    if not requested and is_suppressed(to_address):
        return None
    if ticket is not None:
        mailbox, address, from_header = _sender(ticket)
    else:
        mailbox = None
        name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        from_header = formataddr((name, address))
    in_reply_to = references = reply_to = ""
    if ticket is not None and to_customer:
        in_reply_to, references = _thread_headers(ticket)
        reply_to = make_reply_address(address, ticket.pk)
    return _enqueue(
        OutgoingEmail.objects.create(
            kind=OutgoingEmail.Kind.NOTIFICATION,
            ticket=ticket,
            mailbox=mailbox,
            from_address=from_header,
            reply_to=reply_to,
            to=[to_address],
            subject=rendered.subject,
            body_text=rendered.body_text,
            body_html=rendered.body_html,
            message_id=loops.make_message_id(address),
            in_reply_to=in_reply_to,
            references=references,
            headers=dict(NOTIFICATION_HEADERS),
            internal=not to_customer,
        )
    )


@transaction.atomic
def _notify_ticket(event: str, item: Notice, *, rule: NotificationRule, actor) -> list:
    ticket = Ticket.objects.select_related("requester", "pool").get(pk=item.ticket.pk)
    info = EventInfo(
        event=event,
        ticket=ticket,
        actor=actor,
        message_text=item.message_text,
        reason=item.reason,
        extra=item.extra,
    )
    queued = []
    for recipient in recipients_for(rule, info):
        rendered = notification_email(info, recipient)
        outgoing = queue_automatic_email(
            to_address=recipient.address,
            rendered=rendered,
            ticket=ticket,
            to_customer=recipient.is_customer,
        )
        if outgoing is not None:
            queued.append(outgoing)
    return queued


def queue_sign_in_email(*, contact, address: str, url: str, expires_at) -> OutgoingEmail | None:
    """The portal sign-in link, in the customer's language; never to one of our addresses."""
    if is_robot_address(address):
        return None
    language = language_of(contact)
    context = {"contact": contact, "url": url, "expires_at": expires_at}
    with translation.override(language):
        rendered = render_files("mailboxes/emails/sign_in_link", context)
    return queue_automatic_email(to_address=address, rendered=rendered, requested=True)
