"""Text of automatic mail: ``render_email`` picks an admin-edited EmailTemplate, else files."""

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, OuterRef, Q, Subquery
from django.template import Context, TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from mailboxes import edited_mail, signals
from mailboxes.edited_mail import Values, plain_context, ticket_values, variables_for
from mailboxes.models import EmailTemplate, Mailbox, RawMessage
from people.models import Contact
from tickets.models import Ticket

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body_text: str
    body_html: str


def _one_line(text: str) -> str:
    # A header must never carry a line break (header injection) nor template whitespace.
    return " ".join(text.split())


def with_tag(subject: str, ticket: Ticket, *, limit: int = 255) -> str:
    """One line, the ticket tag present once, within the column's length (tag kept)."""
    subject = _one_line(subject)
    if ticket.tag_label in subject and len(subject) <= limit:
        return subject
    subject = _one_line(subject.replace(ticket.tag_label, ""))
    room = limit - len(ticket.tag_label) - 1
    if len(subject) > room:
        subject = subject[: room - 1].rstrip() + "…"
    return f"{subject} {ticket.tag_label}".strip()


def ticket_mailbox(ticket: Ticket) -> Mailbox | None:
    """The mailbox mail about ``ticket`` goes out from (see ``ticket_mailboxes``); one query."""
    first = (
        RawMessage.objects.filter(ticket_id=ticket.pk)
        .order_by("received_at", "pk")
        .values("mailbox_id")[:1]
    )
    came_in = ExpressionWrapper(Q(pk=Subquery(first)), output_field=BooleanField())
    return (
        Mailbox.objects.filter(Q(pk=Subquery(first)) | Q(pool_id=ticket.pool_id), active=True)
        .annotate(came_in=came_in)
        .order_by("-came_in", "name")
        .first()
    )


def ticket_mailboxes(tickets) -> dict[int, Mailbox]:
    """Each ticket's sending mailbox, by ticket id: the active one its first mail came in by,
    else its pool's first active one (a ticket opened on the portal or by phone). Two or
    three queries for all of them."""
    tickets = list(tickets)
    first = RawMessage.objects.filter(ticket_id=OuterRef("ticket_id")).order_by("received_at", "pk")
    came_in = dict(
        RawMessage.objects.filter(
            ticket_id__in={ticket.pk for ticket in tickets},
            pk=Subquery(first.values("pk")[:1]),
            mailbox__active=True,
        ).values_list("ticket_id", "mailbox_id")
    )
    by_id = Mailbox.objects.in_bulk(set(came_in.values())) if came_in else {}
    by_pool = pool_mailboxes({t.pool_id for t in tickets if came_in.get(t.pk) not in by_id})
    found: dict[int, Mailbox] = {}
    for ticket in tickets:
        mailbox = by_id.get(came_in.get(ticket.pk, 0)) or by_pool.get(ticket.pool_id)
        if mailbox is not None:
            found[ticket.pk] = mailbox
    return found


def pool_mailboxes(pool_ids) -> dict[int, Mailbox]:
    """Each pool's first active mailbox by name (its tickets' mail goes out from it); one query."""
    found: dict[int, Mailbox] = {}
    for mailbox in Mailbox.objects.filter(pool_id__in=set(pool_ids), active=True):
        found.setdefault(mailbox.pool_id, mailbox)
    return found


def language_of(person, *, mailbox: Mailbox | None = None) -> str:
    """The language a person reads our mail in; the one choice every kind of mail makes.

    A customer (``Contact``): their stored language (detected from their first mail, or
    set in admin); an agent (a user): their profile's. Else the mailbox's (the one the
    ticket came in by), else the site's.
    """
    if isinstance(person, Contact):
        language = person.language
    else:
        profile = getattr(person, "agent_profile", None)
        language = profile.language if profile else ""
    return language or (mailbox.language if mailbox else "") or settings.LANGUAGE_CODE


def auto_reply_email(
    ticket: Ticket, *, mailbox: Mailbox, shared: dict | None = None, cache: dict | None = None
) -> RenderedEmail:
    """The auto-reply to a new ticket, in the customer's language, else the mailbox's.

    ``shared``: a dict the caller keeps across many tickets for the receivers of
    ``auto_reply_context`` (the SLA reads its policies and calendars once); ``cache``: see
    ``render_email``.
    """
    language = language_of(ticket.requester, mailbox=mailbox)
    context: dict[str, object] = {"ticket": ticket, "mailbox": mailbox, "language": language}
    shared = {} if shared is None else shared
    answers = signals.auto_reply_context.send(
        sender=Mailbox, ticket=ticket, mailbox=mailbox, shared=shared
    )
    for _receiver, extra in answers:
        if isinstance(extra, dict):
            context.update(extra)
    return render_email(
        EmailTemplate.Kind.AUTO_REPLY,
        language=[language, mailbox.language],
        mailbox=mailbox,
        context=context,
        values=auto_reply_values,
        cache=cache,
    )


def auto_reply_values(context: dict) -> dict:
    """What an edited auto-reply may print: plain values, links to the portal."""
    return {
        **_to_customer_values(context["ticket"], context["mailbox"]),
        "out_of_hours": context.get("out_of_hours", ""),
    }


def _to_customer_values(ticket, mailbox: Mailbox | None) -> dict:
    """The ticket (its portal address, the pool's name for customers), the mailbox that
    writes and the portal, as an edited mail to the customer may print them."""
    return {
        "ticket": ticket_values(
            ticket,
            url=urljoin(settings.SITE_URL, reverse("portal:detail", args=[ticket.number])),
            for_customer=True,
        ),
        "mailbox": Values(
            mailbox.name if mailbox else "",
            name=mailbox.name if mailbox else "",
            from_address=mailbox.from_address if mailbox else "",
            from_name=mailbox.from_name if mailbox else "",
        ),
        "portal_url": urljoin(settings.SITE_URL, reverse("portal:home")),
    }


def first_message_email(message, *, mailbox: Mailbox | None, signature: str) -> RenderedEmail:
    """The first mail of a ticket an agent opened by email: their text, the ticket's number
    and how to answer, in the customer's language (else the mailbox's, else the site's)."""
    ticket = message.ticket
    language = language_of(ticket.requester, mailbox=mailbox)
    agent = message.author_user
    context = {
        "ticket": ticket,
        "mailbox": mailbox,
        "language": language,
        "message_text": message.body_text.strip(),
        "agent_name": (agent.get_full_name() or agent.get_username()) if agent else "",
        "signature": signature,
    }
    return render_email(
        EmailTemplate.Kind.FIRST_MESSAGE,
        language=[language, *([mailbox.language] if mailbox else [])],
        mailbox=mailbox,
        pool_id=ticket.pool_id,
        context=context,
        values=first_message_values,
    )


def first_message_values(context: dict) -> dict:
    """What an edited first message may print: plain values only."""
    return {
        **_to_customer_values(context["ticket"], context["mailbox"]),
        "message_text": context["message_text"],
        "agent_name": context["agent_name"],
        "signature": context["signature"],
    }


def default_files(kind: str) -> str:
    """The built-in files of a kind: ``templates/<name>.subject.txt``, ``.txt``, ``.html``."""
    if kind.startswith("notification."):
        return "mailboxes/emails/notification"
    if kind.startswith("sla."):
        return "sla/emails/" + kind.removeprefix("sla.")
    return f"mailboxes/emails/{kind}"


def pick_template(
    kind: str, *, languages: list[str], mailbox: Mailbox | None = None, pool_id: int | None = None
) -> EmailTemplate | None:
    """The most specific active row of ``kind``: see ``render_email`` for the order."""
    scope = Q(mailbox__isnull=True, pool__isnull=True)
    if pool_id is not None:
        scope |= Q(mailbox__isnull=True, pool_id=pool_id)
    if mailbox is not None:
        scope |= Q(mailbox=mailbox)
    rows = EmailTemplate.objects.filter(scope, kind=kind, language__in=languages, active=True)

    def rank(row: EmailTemplate) -> tuple[int, int, int]:
        scope = 0 if row.mailbox_id else 1 if row.pool_id else 2
        return languages.index(row.language), scope, -row.pk  # a tie: the newest row

    return min(rows, key=rank, default=None)


def _finish(subject: str, body_text: str, body_html: str, context: Mapping) -> RenderedEmail:
    ticket = context.get("ticket")
    subject = with_tag(subject, ticket) if isinstance(ticket, Ticket) else _one_line(subject)
    return RenderedEmail(subject=subject, body_text=body_text.strip() + "\n", body_html=body_html)


def _render_row(row: EmailTemplate, values: dict) -> tuple[str, str, str] | None:
    # Only the kind's allowed names that hold plain values reach the template (see
    # mailboxes.edited_mail); the text is not escaped, the HTML is.
    plain = plain_context(values, variables_for(row.kind))
    sources = [(row.subject, False), (row.body_text, False), (row.body_html, True)]
    try:
        subject, text, html = (
            edited_mail.engine.from_string(source).render(Context(plain, autoescape=escape))
            if source
            else ""
            for source, escape in sources
        )
    except (TemplateSyntaxError, TemplateDoesNotExist):
        # An admin's typo must never stop mail: the default text goes instead.
        logger.warning("email template %s does not compile; using the default", row.pk)
        return None
    return subject, text, html


def render_files(name: str, context: Mapping) -> RenderedEmail:
    """Subject, text and (when the file exists) HTML from ``templates/<name>.*``."""
    try:
        body_html: str = render_to_string(f"{name}.html", context)
    except TemplateDoesNotExist:
        body_html = ""
    subject = render_to_string(f"{name}.subject.txt", context)
    return _finish(subject, render_to_string(f"{name}.txt", context), body_html, context)


def render_email(
    kind: str,
    *,
    language: str | Sequence[str],
    context: Mapping,
    values: Callable[[dict], dict],
    mailbox: Mailbox | None = None,
    pool_id: int | None = None,
    time_zone: str = "",
    cache: dict | None = None,
) -> RenderedEmail:
    """Subject, text and HTML of one mail of ``kind`` (an ``EmailTemplate.Kind``).

    Which admin-edited row speaks, most specific first: the reader's ``language`` (or the
    first of several that has a row), then within a language the row of the ``mailbox``,
    then of the pool (``pool_id``, else the mailbox's), then the row for everyone; inactive
    rows never. With no row, or a row that does not compile, the kind's built-in files
    (``default_files``) render ``context``. An edited row sees only ``values(context)``:
    the kind's allowlisted plain values (``mailboxes.edited_mail``), never model objects.
    Mail about a ticket (``context["ticket"]``) carries its tag in the subject, once.
    ``time_zone``: times print in it.
    ``cache``: a dict the caller keeps across many mails, so each row is looked up once.
    """
    languages = [language] if isinstance(language, str) else list(dict.fromkeys(language))
    if pool_id is None and mailbox is not None:
        pool_id = mailbox.pool_id
    key = (kind, tuple(languages), mailbox.pk if mailbox else None, pool_id)
    if cache is not None and key in cache:
        row = cache[key]
    else:
        row = pick_template(kind, languages=languages, mailbox=mailbox, pool_id=pool_id)
        if cache is not None:
            cache[key] = row
    with (
        translation.override(row.language if row else languages[0]),
        timezone.override(time_zone or timezone.get_current_timezone()),
    ):
        if row is not None and (edited := _render_row(row, values(dict(context)))):
            return _finish(*edited, context)
        return render_files(default_files(kind), context)
