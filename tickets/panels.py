"""Boxes other apps add to the ticket pages (agent and portal) without tickets importing them.

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


def panels_for(ticket: Ticket, *, user, audience: str) -> list[Panel]:
    """Every panel the installed apps offer for this ticket, for this reader."""
    panels: list[Panel] = []
    responses = signals.ticket_panels.send_robust(
        sender=Ticket, ticket=ticket, user=user, audience=audience
    )
    for receiver, result in responses:
        if isinstance(result, Exception):
            logger.error("ticket panel receiver %r failed: %s", receiver, result)
            continue
        panels.extend(result or ())
    return panels
