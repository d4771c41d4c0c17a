"""Notification mail: admin rules per event pick the recipients; everything goes to the outbox.

One OutgoingEmail per recipient (each in their own language, no address sees another).
Never to robots: our own addresses, no-reply style addresses, and requesters whose mail
was automatic or from a list (the loop-protection checks of ``mailboxes.loops``).
What is already mailed is not mailed twice: an agent's reply goes to the customer as the
reply itself, and a mailed-in ticket is acknowledged by its mailbox's auto-reply.
"""

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from email import policy
from email.parser import BytesHeaderParser
from typing import Any
from urllib.parse import urljoin

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Min, OuterRef, Q, Subquery
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from mailboxes import loops
from mailboxes.edited_mail import name_of, ticket_values
from mailboxes.emails import (
    RenderedEmail,
    language_of,
    render_email,
    render_files,
    ticket_mailboxes,
)
from mailboxes.models import (
    Mailbox,
    NotificationPreference,
    NotificationRule,
    OutgoingAttachment,
    OutgoingEmail,
    RawMessage,
)
from mailboxes.outbound import enqueue, sender_of, thread_headers
from mailboxes.parsing import ParsedMail
from mailboxes.suppression import suppressed_among
from mailboxes.tokens import make_reply_address
from people.roles import sees_all_pools_q
from tickets.models import Message, PoolMembership, Ticket
from tickets.states import MESSAGING_CHANNELS, Channel

logger = logging.getLogger(__name__)

Event = NotificationRule.Event
Topic = NotificationPreference.Topic
Delivery = NotificationPreference.Delivery
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


def is_robot_address(address: str, *, ours: set[str] | None = None) -> bool:
    """Our own mailboxes, and addresses that announce a program (no-reply, mailer-daemon...)."""
    address = address.strip().lower()
    if "@" not in address:
        return True
    local = address.rpartition("@")[0]
    if _ROBOT_LOCAL_PART.match(local):
        return True
    return loops.is_own_address(address, loops.our_addresses() if ours is None else ours)


def first_raws(ticket_ids) -> dict[int, RawMessage]:
    """Each ticket's first stored mail (what opened it), one query for all of them."""
    first = RawMessage.objects.filter(ticket_id=OuterRef("ticket_id")).order_by("received_at", "pk")
    rows = RawMessage.objects.filter(
        ticket_id__in=set(ticket_ids), pk=Subquery(first.values("pk")[:1])
    )
    return {raw.ticket_id: raw for raw in rows if raw.ticket_id is not None}


def _first_mail_headers(raw: RawMessage | None) -> ParsedMail | None:
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


def requester_is_robot(
    ticket: Ticket, address: str, *, ours: set[str] | None = None, raws: dict | None = None
) -> bool:
    """The requester is a program: a robot address, or their mail was automatic or a list.

    ``ours`` (``loops.our_addresses``) and ``raws`` (``first_raws``): read by the caller for many
    tickets at once; else read here.
    """
    if is_robot_address(address, ours=ours):
        return True
    if ticket.channel != Channel.EMAIL:
        return False
    raw = (first_raws([ticket.pk]) if raws is None else raws).get(ticket.pk)
    parsed = _first_mail_headers(raw)
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
        # The mailbox's auto-reply answers mail; the agent's first message is the mail.
        return info.ticket.channel in (Channel.EMAIL, Channel.OUTBOUND_EMAIL)
    return info.event in (
        Event.AGENT_MESSAGE,  # the reply itself is the mail
        Event.CUSTOMER_MESSAGE,
        Event.RESOLUTION_APPROVED,
        Event.RESOLUTION_REJECTED,
        Event.SURVEY_ANSWERED,
    )


# The events that are also a topic of the agents' own choices (``mailboxes.preferences``).
TOPIC_OF_EVENT: dict[str, str] = {
    Event.TICKET_OPENED: Topic.NEW_TICKET,
    Event.CUSTOMER_MESSAGE: Topic.CUSTOMER_REPLIED,
}


def _agents_for(
    rules: dict[int, NotificationRule], tickets, event: str, topic: str | None
) -> dict[int, list]:
    """Ticket id → (agent, topic or None) for everyone told of the event (active, with an
    address, by id). The agents the ``topic`` is about (a new ticket: its pool's members; a
    customer's message: the technician) come whatever the rule says, with the topic: their
    own choice decides. The others the ticket's rule names (watchers, manager, supervisors;
    members and technician for events that are no topic) come with None: at once."""
    tickets = list(tickets)
    ruled: dict[int, set[int]] = {ticket.pk: set() for ticket in tickets}
    mine: dict[int, set[int]] = {ticket.pk: set() for ticket in tickets}
    with_rule = [(ticket, rules[ticket.pool_id]) for ticket in tickets if ticket.pool_id in rules]
    watched = [ticket.pk for ticket, rule in with_rule if rule.to_watchers]
    watchers = Ticket.watchers.through.objects.filter(ticket_id__in=watched)
    for ticket_id, user_id in watchers.values_list("ticket_id", "user_id") if watched else ():
        ruled[ticket_id].add(user_id)
    pools = {ticket.pool_id for ticket, rule in with_rule if rule.to_pool_members}
    if topic == Topic.NEW_TICKET:
        pools |= {ticket.pool_id for ticket in tickets}
    members: dict[int, set[int]] = {}
    memberships = PoolMembership.objects.filter(pool_id__in=pools)
    for pool_id, user_id in memberships.values_list("pool_id", "user_id") if pools else ():
        members.setdefault(pool_id, set()).add(user_id)
    supervisors: set[int] = set()
    if any(rule.to_supervisors for _ticket, rule in with_rule):
        users = get_user_model().objects.filter(sees_all_pools_q())
        supervisors = set(users.values_list("pk", flat=True))
    for ticket, rule in with_rule:
        ids = ruled[ticket.pk]
        # The technician of a ticket just taken hears of it as "assigned to me" instead.
        if rule.to_assignee and ticket.assignee_id and event != Event.TICKET_TAKEN:
            ids.add(ticket.assignee_id)
        if rule.to_manager and ticket.manager_id:
            ids.add(ticket.manager_id)
        if rule.to_pool_members:
            ids |= members.get(ticket.pool_id, set())
        if rule.to_supervisors:
            ids |= supervisors
    for ticket in tickets:
        if topic == Topic.NEW_TICKET:
            mine[ticket.pk] = members.get(ticket.pool_id, set())
        elif topic == Topic.CUSTOMER_REPLIED and ticket.assignee_id:
            mine[ticket.pk] = {ticket.assignee_id}
    every = set().union(*ruled.values(), *mine.values())
    users = get_user_model().objects.filter(pk__in=every, is_active=True).exclude(email="")
    found = users.select_related("agent_profile").in_bulk() if every else {}
    return {
        pk: [
            (found[i], topic if i in mine[pk] else None)
            for i in sorted(ruled[pk] | mine[pk])
            if i in found
        ]
        for pk in ruled
    }


@dataclass
class _Reads:
    """What the recipients and the mail of many tickets share, read once for all of them."""

    ours: set[str]
    mailboxes: dict[int, Mailbox]
    raws: dict[int, RawMessage]
    templates: dict = field(default_factory=dict)


def customer_recipient(rule: NotificationRule | None, info: EventInfo, reads: _Reads):
    """The requester, when the rule names them for this event and they are a person; else
    None. Agents' mail goes by their own choices (``mailboxes.preferences``)."""
    ticket = info.ticket
    requester = ticket.requester
    actor_id = getattr(info.actor, "pk", None)
    # Nobody is told what they did themselves; a new ticket's acknowledgement is the exception.
    requester_acted = (
        requester is not None
        and actor_id is not None
        and requester.user_id == actor_id
        and info.event != Event.TICKET_OPENED
    )
    if (
        rule is None
        or not rule.to_requester
        or requester is None
        or requester_acted
        or _skips_requester(info)
    ):
        return None
    address = requester.primary_email
    if not address or requester_is_robot(ticket, address, ours=reads.ours, raws=reads.raws):
        return None
    return Recipient(
        address=address,
        name=requester.name,
        language=language_of(requester, mailbox=reads.mailboxes.get(ticket.pk)),
        is_customer=True,
    )


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


def notify(event: str, items, *, actor=None, now=None) -> list[OutgoingEmail]:
    """Mail the requester as the event's rule says and the agents as their choices say, for
    each Notice; returns the outbox rows (agents' digest items are stored instead).

    Set-based: the rules in one query (the only one when the event is off everywhere and
    is no agent's topic), then tickets, agents, their choices and absences, addresses,
    mailboxes and templates once, one INSERT for the mail. Not idempotent (each call
    queues mail). One ticket's broken template or address costs only that ticket its mail.
    """
    from mailboxes.preferences import AgentNotice, plan_deliveries

    items = list(items)
    topic = TOPIC_OF_EVENT.get(event)
    rules = rules_for(event, {item.ticket.pool_id for item in items})
    if topic is None:
        items = [item for item in items if item.ticket.pool_id in rules]
    if not items:
        return []
    tickets = Ticket.objects.select_related("requester", "pool").in_bulk(
        {item.ticket.pk for item in items}
    )
    agents = _agents_for(rules, tickets.values(), event, topic)
    customers = [
        t.pk for t in tickets.values() if t.pool_id in rules and rules[t.pool_id].to_requester
    ]
    if not customers and not any(agents.values()):
        return []  # nobody to tell: no rule mails the requester, no agent hears of it
    found = [(item, tickets[item.ticket.pk]) for item in items if item.ticket.pk in tickets]
    notices = [
        AgentNotice(user, ticket, about, item.message_text)
        for item, ticket in found
        for user, about in agents[ticket.pk]
    ]
    # The agents' own choices first: when they decide nobody hears of it now (a new chat
    # in a pool whose members left "new ticket" off), nothing is read for the mail.
    delivered = plan_deliveries(notices, actor=actor, now=now)
    if not customers and not delivered:
        return []
    reads = _Reads(
        ours=loops.our_addresses(),
        mailboxes=ticket_mailboxes(tickets.values()),
        raws=first_raws(customers) if customers else {},
    )
    mails, infos = [], {}
    for item, ticket in found:
        info = infos[ticket.pk] = EventInfo(
            event, ticket, actor, item.message_text, item.reason, item.extra
        )
        try:
            recipient = customer_recipient(rules.get(ticket.pool_id), info, reads)
            if recipient is not None and not is_robot_address(recipient.address, ours=reads.ours):
                rendered = notification_email(info, recipient, cache=reads.templates)
                mails.append(AutomaticMail(recipient.address, rendered, ticket=ticket))
        except Exception:
            logger.exception("notification %s for ticket %s failed", event, ticket.pk)
    mails += _agent_mails(delivered, infos, reads)
    return queue_automatic_emails(mails, mailboxes=reads.mailboxes)


def anyone_hears_of_opened(pool_ids) -> bool:
    """Whether a ticket opened in these pools mails anybody: a "ticket opened" rule is on
    for one of them, or one of their members chose to hear of new tickets (at once or in
    the digest; off by default). Two small queries: the receiver asks before it queues the
    job, so a flood nobody is told of costs no job and no read of its tickets."""
    pool_ids = set(pool_ids)
    if not pool_ids:
        return False
    if rules_for(Event.TICKET_OPENED, pool_ids):
        return True
    hearing = Q(user__notification_preference__new_ticket__in=[Delivery.IMMEDIATE, Delivery.DIGEST])
    if NotificationPreference.DEFAULTS[Topic.NEW_TICKET] != Delivery.OFF:
        hearing |= Q(user__notification_preference__isnull=True)
    return PoolMembership.objects.filter(hearing, pool_id__in=pool_ids).exists()


def notify_tickets_opened(ticket_ids, *, actor_id=None) -> list[OutgoingEmail]:
    """``notify(TICKET_OPENED)`` for tickets named by id (the task's side: the receiver of
    ``tickets_created`` queues it after the opening commit)."""
    tickets = list(Ticket.objects.filter(pk__in=ticket_ids).order_by("pk"))
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    return notify(Event.TICKET_OPENED, [Notice(ticket) for ticket in tickets], actor=actor)


def _agent_mails(delivered, infos: dict[int, EventInfo], reads: _Reads) -> list["AutomaticMail"]:
    from mailboxes.preferences import fold_bursts

    singles, bursts = fold_bursts(delivered)
    mails = []
    for item in singles:
        recipient = _agent_recipient(item.reader)
        if recipient is None or is_robot_address(recipient.address, ours=reads.ours):
            continue
        info = infos[item.notice.ticket.pk]
        if item.on_behalf_of is not None:
            info = replace(info, extra={**info.extra, "on_behalf_of": name_of(item.on_behalf_of)})
        try:
            rendered = notification_email(info, recipient, cache=reads.templates)
        except Exception:
            logger.exception("notification %s for ticket %s failed", info.event, info.ticket.pk)
            continue
        mail = AutomaticMail(recipient.address, rendered, ticket=info.ticket, to_customer=False)
        mails.append(mail)
    for items in bursts:
        recipient = _agent_recipient(items[0].reader)
        if recipient is None or is_robot_address(recipient.address, ours=reads.ours):
            continue
        burst = burst_mail(
            items,
            recipient.address,
            lambda item: (
                Event(infos[item.notice.ticket.pk].event).label,
                infos[item.notice.ticket.pk].message_text,
            ),
        )
        mails += [burst] if burst else []
    return mails


def burst_mail(items, address: str, describe) -> "AutomaticMail | None":
    """One agent's mail listing many deliveries at once (``preferences.fold_bursts``: one
    reader, standing in for the same agent or none), in their language; None when it cannot
    be rendered (logged). ``describe(item)``: what happened (a lazy label) and a detail,
    such as the customer's text."""
    reader, on_behalf_of = items[0].reader, items[0].on_behalf_of
    try:
        with translation.override(language_of(reader)):
            lines = []
            for item in items:
                label, detail = describe(item)
                ticket = item.notice.ticket
                lines.append(
                    {
                        "topic": str(label),
                        "ticket": ticket,
                        "detail": detail,
                        "link": ticket_link(ticket),
                    }
                )
            context = {
                "recipient_name": name_of(reader),
                "on_behalf_of": name_of(on_behalf_of),
                "count": len(lines),
                "topics": ", ".join(dict.fromkeys(line["topic"] for line in lines)),
                "items": lines,
            }
            rendered = render_files("mailboxes/emails/burst", context)
    except Exception:
        logger.exception("a burst of %s notices to user %s failed", len(items), reader.pk)
        return None
    return AutomaticMail(address, rendered, to_customer=False)


def notify_customer_messages(messages, *, actor=None) -> list[OutgoingEmail]:
    """The ``customer_message`` notifications of many messages.

    A ticket's first message is the ticket itself ("ticket opened" tells it), and only
    inbound messages count. No query for a list without a customer's message. A chat line
    is told only when it breaks a silence (``_chat_lines_to_tell``).
    """
    # No rule needed: the technician's own choice ("customer replied") counts without one.
    inbound = [message for message in messages if message.kind == Message.Kind.INBOUND]
    if not inbound:
        return []
    if not any(message.ticket.assignee_id for message in inbound) and not rules_for(
        Event.CUSTOMER_MESSAGE, {message.ticket.pool_id for message in inbound}
    ):
        return []  # no technician to tell and the rule is off (a chat line nobody took): 1 query
    firsts = dict(
        Message.objects.filter(
            ticket_id__in={message.ticket_id for message in inbound}, kind=Message.Kind.INBOUND
        )
        .values("ticket_id")
        .annotate(first=Min("pk"))
        .values_list("ticket_id", "first")
        .order_by()
    )
    inbound = [message for message in inbound if firsts.get(message.ticket_id) != message.pk]
    quiet = _chat_lines_to_tell(inbound)
    notices = [
        Notice(message.ticket, message_text=message.body_text)
        for message in inbound
        if message.ticket.channel not in MESSAGING_CHANNELS or message.pk in quiet
    ]
    return notify(Event.CUSTOMER_MESSAGE, notices, actor=actor) if notices else []


def _chat_lines_to_tell(messages) -> set[int]:
    """The chat lines among ``messages`` that no earlier customer line of their ticket
    preceded within ``CHAT_REPLY_NOTICE_QUIET_SECONDS``: a conversation mails its
    technician once when it (re)starts, not once per line. One query, none without chats."""
    lines = [m for m in messages if m.ticket.channel in MESSAGING_CHANNELS]
    window = timedelta(seconds=settings.CHAT_REPLY_NOTICE_QUIET_SECONDS)
    if not lines or not window:
        return {m.pk for m in lines}
    earlier: dict[int, list[tuple[Any, int]]] = {}
    for ticket_id, created_at, pk in Message.objects.filter(
        ticket_id__in={m.ticket_id for m in lines},
        kind=Message.Kind.INBOUND,
        created_at__gte=min(m.created_at for m in lines) - window,
        created_at__lte=max(m.created_at for m in lines),
    ).values_list("ticket_id", "created_at", "pk"):
        earlier.setdefault(ticket_id, []).append((created_at, pk))
    return {
        m.pk
        for m in lines
        if not any(
            pk < m.pk and m.created_at - window <= at <= m.created_at
            for at, pk in earlier.get(m.ticket_id, ())
        )
    }


def ticket_link(ticket) -> str:
    """The ticket's page in the agents' workspace."""
    return urljoin(settings.SITE_URL, reverse("tickets:detail", args=[ticket.number]))


def _link(recipient: Recipient, ticket: Ticket) -> str:
    if recipient.is_customer:
        return urljoin(settings.SITE_URL, reverse("portal:detail", args=[ticket.number]))
    return ticket_link(ticket)


def notification_email(
    info: EventInfo, recipient: Recipient, *, cache: dict | None = None
) -> RenderedEmail:
    """One recipient's mail about an event, in their language (the pool's text, else ours).

    ``cache``: see ``render_email``."""
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
        values=lambda context: {
            **context,
            "ticket": ticket_values(
                ticket, url=context["link"], for_customer=recipient.is_customer
            ),
        },
        cache=cache,
    )


# --- queueing -------------------------------------------------------------------------------


@dataclass
class AutomaticMail:
    """One automatic mail to queue (``queue_automatic_emails``)."""

    to_address: str
    rendered: RenderedEmail
    ticket: Ticket | None = None
    to_customer: bool = True
    requested: bool = False
    # (file name, content, content type) of small files stored with the row (a report's PDF).
    attachments: Sequence[tuple[str, bytes, str]] = ()


def queue_automatic_email(*, to_address: str, rendered: RenderedEmail, **kwargs):
    """One automatic mail (see ``queue_automatic_emails``): its outbox row, or None."""
    rows = queue_automatic_emails([AutomaticMail(to_address, rendered, **kwargs)])
    return rows[0] if rows else None


def administrators():
    """Active administrators with an address: superusers and the Administrators group."""
    return (
        get_user_model()
        .objects.filter(Q(is_superuser=True) | Q(groups__name="Administrators"), is_active=True)
        .exclude(email="")
        .select_related("agent_profile")
        .distinct()
    )


def queue_admin_notices(template: str, context: dict) -> list[OutgoingEmail]:
    """Tell every administrator something needs them: ``template`` + ``.subject.txt`` and
    ``.txt``, rendered in each one's language, one outbox row each (internal mail)."""
    mails = []
    for admin in administrators():
        with translation.override(language_of(admin)):
            subject = render_to_string(f"{template}.subject.txt", context)
            body = render_to_string(f"{template}.txt", context)
        rendered = RenderedEmail(subject=" ".join(subject.split()), body_text=body, body_html="")
        mails.append(AutomaticMail(admin.email, rendered, to_customer=False))
    return queue_automatic_emails(mails) if mails else []


def queue_automatic_emails(
    mails: list[AutomaticMail], *, mailboxes: dict[int, Mailbox] | None = None
) -> list[OutgoingEmail]:
    """Put automatic mail in the outbox (marked Auto-Submitted); sent after commit.

    A customer's copy comes from the ticket's mailbox, threads with the ticket and can be
    answered; an agent's copy does not carry the ticket's reply address. Nothing goes to
    an address suppressed after a permanent bounce, unless the person ``requested`` this
    very mail (a sign-in link). A few queries and one INSERT for the list; ``mailboxes``:
    ``ticket_mailboxes`` of the tickets (by ticket id), when the caller has read them.
    """
    suppressed = suppressed_among(mail.to_address for mail in mails if not mail.requested)
    mails = [m for m in mails if m.requested or m.to_address.strip().lower() not in suppressed]
    tickets = {mail.ticket.pk: mail.ticket for mail in mails if mail.ticket is not None}
    if mailboxes is None:
        mailboxes = ticket_mailboxes(tickets.values())
    threads = thread_headers({mail.ticket.pk for mail in mails if mail.ticket and mail.to_customer})
    rows = []
    for mail in mails:
        ticket = mail.ticket
        mailbox, address, from_header = sender_of(mailboxes.get(ticket.pk) if ticket else None)
        in_reply_to = references = reply_to = ""
        if ticket is not None and mail.to_customer:
            in_reply_to, references = threads[ticket.pk]
            reply_to = make_reply_address(address, ticket.pk)
        rows.append(
            OutgoingEmail(
                kind=OutgoingEmail.Kind.NOTIFICATION,
                ticket=ticket,
                mailbox=mailbox,
                from_address=from_header,
                reply_to=reply_to,
                to=[mail.to_address],
                subject=mail.rendered.subject,
                body_text=mail.rendered.body_text,
                body_html=mail.rendered.body_html,
                message_id=loops.make_message_id(address),
                in_reply_to=in_reply_to,
                references=references,
                headers=dict(NOTIFICATION_HEADERS),
                internal=not mail.to_customer,
            )
        )
    created = OutgoingEmail.objects.bulk_create(rows)
    files = [
        OutgoingAttachment(outgoing=row, filename=name, content=content, content_type=kind)
        for mail, row in zip(mails, created, strict=True)
        for name, content, kind in mail.attachments
    ]
    if files:
        OutgoingAttachment.objects.bulk_create(files)
    return enqueue(created)


def queue_sign_in_email(*, contact, address: str, url: str, expires_at) -> OutgoingEmail | None:
    """The portal sign-in link, in the customer's language; never to one of our addresses."""
    if is_robot_address(address):
        return None
    language = language_of(contact)
    context = {"contact": contact, "url": url, "expires_at": expires_at}
    with translation.override(language):
        rendered = render_files("mailboxes/emails/sign_in_link", context)
    return queue_automatic_email(to_address=address, rendered=rendered, requested=True)
