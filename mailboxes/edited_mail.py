"""Admin-edited mail: rendered from plain values on an allowlist, never from model objects.

An admin who edits a mail template must not be able to print what the template's objects
can reach (`{{ mailbox.password }}`, `{{ ticket.requester.user.password }}`). So each kind
of mail names the variables it offers (`AUTO_REPLY_VARIABLES`, ...), the caller builds
them as plain values (`ticket_values(ticket)`), `plain_context` drops anything else, and
the template runs on an engine with no loader and no tags that reach beyond its context.
The variables are listed beside each editor in the admin (`variables_help`).
"""

import datetime
import decimal
from collections.abc import Mapping
from typing import Any

from django.template import Engine, Library, defaultfilters, defaulttags
from django.utils.functional import Promise
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _

# What an edited template may use: the default tags and filters, without those that load
# other templates or libraries, print the whole context or build URLs.
register = Library()
register.filters.update(defaultfilters.register.filters)
register.tags.update(
    (name, tag)
    for name, tag in defaulttags.register.tags.items()
    if name not in {"debug", "load", "url", "csrf_token"}
)


class _EditedMailEngine(Engine):
    default_builtins = []  # no tag or filter library beyond ours


engine = _EditedMailEngine(
    dirs=[], app_dirs=False, loaders=[], libraries={}, builtins=[__name__], autoescape=False
)

PLAIN_TYPES = (str, int, float, bool, decimal.Decimal, datetime.date, datetime.timedelta)


class Values:
    """Named plain values (`{{ ticket.number }}`) that print as ``text`` (`{{ ticket }}`).

    A value may be a function returning a plain value, called only when a template asks
    for it (a name nobody prints costs no query).
    """

    def __init__(self, text: object = "", **values: object) -> None:
        self._text = text
        self._values = values

    def __getitem__(self, name: str) -> object:
        value = self._values[name]
        value = value() if callable(value) else value
        return value if is_plain(value) and value is not None else ""

    def __str__(self) -> str:
        return str(self._text)


def is_plain(value: object) -> bool:
    return value is None or isinstance(value, (*PLAIN_TYPES, Promise, Values))


def plain_context(context: Mapping[str, Any], allowed: Mapping[str, object]) -> dict:
    """The allowed names of ``context`` whose values are plain; everything else is left out."""
    return {
        name: value
        for name, value in context.items()
        if name in allowed and is_plain(value) and not callable(value)
    }


def variables_help(allowed: Mapping[str, object]):
    """The list of variables shown beside a template editor in the admin."""
    return format_html_join(
        "",
        "<br><code>{{{{ {} }}}}</code>: {}",
        ((name, description) for name, description in allowed.items()),
    )


def name_of(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()


def person_values(user) -> Values:
    """An agent, by name only: prints the full name (or the user name)."""
    return Values(name_of(user), name=name_of(user))


def ticket_values(ticket, *, url: str = "", for_customer: bool = False) -> Values:
    """A ticket as plain values; related rows are read only when the template uses them.

    ``for_customer``: the mail goes to the customer, so ``.pool`` prints the pool's
    customer-facing name (internal pool names stay inside the team).
    """

    def pool() -> str:
        return ticket.pool.customer_facing_name if for_customer else ticket.pool.name

    def requester() -> Values:
        name = ticket.requester.name if ticket.requester_id else ""
        return Values(name, name=name)

    return Values(
        str(ticket),
        number=ticket.number,
        subject=ticket.subject,
        status=ticket.get_status_display(),
        priority=ticket.get_priority_display(),
        url=url,
        pool=pool,
        requester=requester,
        customer_name=lambda: requester()["name"],
        assignee=lambda: person_values(ticket.assignee) if ticket.assignee_id else "",
        agent_name=lambda: name_of(ticket.assignee) if ticket.assignee_id else "",
    )


TICKET_VARIABLE = _(
    "the ticket: .number, .subject, .status, .priority, .pool, .url, .customer_name "
    "(also .requester.name), .agent_name (also .assignee.name)"
)

AUTO_REPLY_VARIABLES = {
    "ticket": TICKET_VARIABLE,
    "mailbox": _("the mailbox: .name, .from_address, .from_name"),
    "out_of_hours": _("when the mail came outside working hours, a sentence saying so"),
    "portal_url": _("the customer portal's address"),
}

NOTIFICATION_VARIABLES = {
    "ticket": TICKET_VARIABLE,
    "recipient_name": _("the name of the person this mail goes to"),
    "is_customer": _("true when the recipient is the customer"),
    "actor_name": _("who did it"),
    "event": _("the event's code"),
    "event_label": _("the event's name"),
    "sentence": _("one sentence saying what happened"),
    "message_text": _("the text of the reply or note, when there is one"),
    "reason": _("the reason given, when there is one"),
    "link": _("the ticket's address (the portal's for a customer)"),
}

SLA_MAIL_VARIABLES = {
    "ticket": TICKET_VARIABLE,
    "url": _("the ticket's address"),
    "target": _("the deadline's target (first response, resolution, ...)"),
    "deadline": _("the deadline: .due_at (e.g. {{ deadline.due_at|date:'H:i' }}), .target"),
    "time_zone": _("the time zone times are shown in"),
    "department": _("the department consulted: .name, .email"),
    "question": _("the question asked to the department"),
    "consultant": _("the agent who asked the department (prints the name)"),
    "consultation": _("the consultation: .department, .asked_at, .due_at"),
    "response_hours": _("the department's response time, in hours"),
}


FIRST_MESSAGE_VARIABLES = {
    "ticket": TICKET_VARIABLE,
    "message_text": _("what the agent wrote"),
    "agent_name": _("the agent who wrote it"),
    "signature": _("the agent's signature"),
    "mailbox": _("the mailbox: .name, .from_address, .from_name"),
    "portal_url": _("the customer portal's address"),
}


def variables_for(kind: str) -> dict:
    """The variables an edited template of ``kind`` (an ``EmailTemplate.Kind``) may print."""
    if kind == "first_message":
        return FIRST_MESSAGE_VARIABLES
    if kind.startswith("notification."):
        return NOTIFICATION_VARIABLES
    if kind.startswith("sla."):
        return SLA_MAIL_VARIABLES
    return AUTO_REPLY_VARIABLES
