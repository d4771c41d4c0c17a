"""Boxes other apps add to the ticket pages (agent and portal) and to the customer's card and
page, without tickets importing them.

A receiver of ``signals.ticket_panels`` returns a list of Panel; a receiver that fails is
logged and skipped, so a broken extension never takes the ticket page down. Surveys add the
disposition form (agents) and the survey link (customers); the SLA app can add the
deadline the same way, e.g. ``Panel(title=_("Answer due"), text=..., key="deadline")``
for both audiences. Keep each receiver to one or two queries: the pages pin their counts.
"""

import logging
from dataclasses import dataclass

from tickets import signals
from tickets.models import Ticket

logger = logging.getLogger(__name__)

AGENT = "agent"
CUSTOMER = "customer"
# Where a contact panel shows (signals.contact_panels): the requester card of a ticket
# page (one or two queries, a line or two), or the contact's page (a list is fine).
ON_TICKET = "ticket"
ON_CONTACT = "contact"


@dataclass(frozen=True)
class PanelRow:
    """One line of a panel's list: e.g. a survey answer, a call, a plan."""

    text: str
    url: str = ""
    note: str = ""  # a date or a figure, shown muted


@dataclass(frozen=True)
class PanelAction:
    """A button that POSTs (with the CSRF token) to ``url``: a change, never a GET."""

    label: str
    url: str
    tone: str = "secondary"


@dataclass(frozen=True)
class Panel:
    title: str
    text: str = ""
    url: str = ""
    link_label: str = ""
    tone: str = "secondary"  # a Bootstrap colour: secondary, warning, danger, success, info
    key: str = ""  # an id for tests and styling, e.g. "survey" or "deadline"
    actions: tuple[PanelAction, ...] = ()
    # Agents only: the reply form shows a checkbox with this label, and a reply is refused
    # until it is ticked (a ``reply_requested`` receiver checks it on the server).
    confirm_reply: str = ""
    rows: tuple[PanelRow, ...] = ()


@dataclass(frozen=True)
class ThreadView:
    """A thread rendered by another app: ``template`` is included with ``thread_view`` in the
    page's context (``thread_view.context`` holds what the app loaded)."""

    template: str
    context: dict


def thread_view_for(ticket: Ticket, *, user, messages) -> ThreadView | None:
    """The first ThreadView an installed app offers for this ticket, else None (mail)."""
    responses = signals.ticket_thread.send_robust(
        sender=Ticket, ticket=ticket, user=user, messages=messages
    )
    for receiver, result in responses:
        if isinstance(result, Exception):
            logger.error("ticket thread receiver %r failed: %s", receiver, result)
            continue
        if result is not None:
            return result
    return None


def panels_for(ticket: Ticket, *, user, audience: str) -> list[Panel]:
    """Every panel the installed apps offer for this ticket, for this reader."""
    responses = signals.ticket_panels.send_robust(
        sender=Ticket, ticket=ticket, user=user, audience=audience
    )
    return _collect(responses, "ticket")


def contact_panels_for(contact, *, user, place: str) -> list[Panel]:
    """Every panel the installed apps offer about this customer, for this agent, here."""
    responses = signals.contact_panels.send_robust(
        sender=Ticket, contact=contact, user=user, place=place
    )
    return _collect(responses, "contact")


def _collect(responses, kind: str) -> list[Panel]:
    panels: list[Panel] = []
    for receiver, result in responses:
        if isinstance(result, Exception):
            logger.error("%s panel receiver %r failed: %s", kind, receiver, result)
            continue
        panels.extend(result or ())
    return panels
