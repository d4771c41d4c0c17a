"""Text of automatic mail: an admin-edited EmailTemplate row, else the default file templates."""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin

from django.conf import settings
from django.db.models import Q
from django.template import Context, TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from mailboxes import edited_mail
from mailboxes.edited_mail import AUTO_REPLY_VARIABLES, Values, plain_context, ticket_values
from mailboxes.models import EmailTemplate, Mailbox
from mailboxes.signals import auto_reply_context
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
    """The mailbox mail about ``ticket`` goes out from: its pool's first active one."""
    return Mailbox.objects.filter(pool_id=ticket.pool_id, active=True).first()


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


def render_edited(row, context: dict, *, allowed: Mapping[str, object]) -> tuple[str, str] | None:
    """An admin-edited row's subject and text, rendered as plain text (nothing escaped).

    Only the ``allowed`` names of ``context`` that hold plain values reach the template
    (see mailboxes.edited_mail). None when the row does not compile: an admin's typo must
    never stop mail, so the caller sends its default text instead (and the typo is logged).
    """
    plain = Context(plain_context(context, allowed), autoescape=False)
    try:
        subject = edited_mail.engine.from_string(row.subject).render(plain)
        return subject, edited_mail.engine.from_string(row.body).render(plain).strip() + "\n"
    except (TemplateSyntaxError, TemplateDoesNotExist):
        logger.warning("%s %s does not compile; using the default", type(row).__name__, row.pk)
        return None


def auto_reply_values(ticket: Ticket, *, mailbox: Mailbox, context: dict) -> dict:
    """What an edited auto-reply may print: plain values, links to the portal."""
    portal_url = urljoin(settings.SITE_URL, reverse("portal:home"))
    return {
        "ticket": ticket_values(
            ticket, url=urljoin(settings.SITE_URL, reverse("portal:detail", args=[ticket.number]))
        ),
        "mailbox": Values(
            mailbox.name,
            name=mailbox.name,
            from_address=mailbox.from_address,
            from_name=mailbox.from_name,
        ),
        "out_of_hours": context.get("out_of_hours", ""),
        "portal_url": portal_url,
    }


def pick_template(kind: str, *, mailbox: Mailbox, languages: list[str]) -> EmailTemplate | None:
    """The most specific row: the customer's language first, then mailbox, pool, everyone."""
    rows = EmailTemplate.objects.filter(
        Q(mailbox=mailbox)
        | Q(mailbox__isnull=True, pool_id=mailbox.pool_id)
        | Q(mailbox__isnull=True, pool__isnull=True),
        kind=kind,
        language__in=languages,
    )

    def rank(row: EmailTemplate) -> tuple[int, int]:
        scope = 0 if row.mailbox_id else 1 if row.pool_id else 2
        return languages.index(row.language), scope

    return min(rows, key=rank, default=None)


def render_auto_reply(
    ticket: Ticket, *, mailbox: Mailbox, templates: dict | None = None, shared: dict | None = None
) -> RenderedEmail:
    """Subject, text and HTML of the auto-reply to a new ticket, in the customer's language.

    ``templates``: a dict the caller keeps across many tickets, so that the template for
    one mailbox and language is looked up once; ``shared`` likewise, for the receivers of
    ``auto_reply_context`` (the SLA reads its policies and calendars once).
    """
    requester = ticket.requester
    language = language_of(requester, mailbox=mailbox)
    # The template in the customer's language, else in the mailbox's.
    languages = list(dict.fromkeys([language, mailbox.language]))
    context: dict[str, object] = {"ticket": ticket, "mailbox": mailbox, "language": language}
    shared = {} if shared is None else shared
    answers = auto_reply_context.send(sender=Mailbox, ticket=ticket, mailbox=mailbox, shared=shared)
    for _receiver, extra in answers:
        if isinstance(extra, dict):
            context.update(extra)
    key = (mailbox.pk, tuple(languages))
    if templates is not None and key in templates:
        row = templates[key]
    else:
        row = pick_template(EmailTemplate.Kind.AUTO_REPLY, mailbox=mailbox, languages=languages)
        if templates is not None:
            templates[key] = row
    with translation.override(row.language if row else language):
        edited = None
        if row is not None:
            values = auto_reply_values(ticket, mailbox=mailbox, context=context)
            edited = render_edited(row, values, allowed=AUTO_REPLY_VARIABLES)
        if edited is not None:
            # Admin-edited text is plain text: no HTML part.
            return RenderedEmail(
                subject=with_tag(edited[0], ticket), body_text=edited[1], body_html=""
            )
        name = "mailboxes/emails/auto_reply"
        return RenderedEmail(
            subject=with_tag(render_to_string(f"{name}.subject.txt", context), ticket),
            body_text=render_to_string(f"{name}.txt", context).strip() + "\n",
            body_html=render_to_string(f"{name}.html", context),
        )
