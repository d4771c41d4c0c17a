"""What a customer sees of the SLA on their portal ticket page: when we aim to resolve it.

Internal targets (first response, escalations) stay internal; the customer is told the
resolution time the policy promises, or that the clock waits while we wait for them.
"""

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from sla.models import Deadline, Target
from tickets.panels import CUSTOMER, Panel
from tickets.states import Status


def customer_panels(ticket) -> list[Panel]:
    """The resolution deadline as a panel (one query); nothing for finished tickets."""
    if not ticket.is_open:
        return []
    deadline = (
        Deadline.objects.live()
        .filter(ticket=ticket, target=Target.RESOLUTION)
        .only("state", "due_at")
        .first()
    )
    if deadline is None:
        return []
    if ticket.status == Status.WAITING_CUSTOMER or deadline.due_at is None:
        text = _("The clock is paused while we wait for your reply.")
    else:
        when = timezone.localtime(deadline.due_at)
        text = _("We aim to resolve it by %(when)s.") % {
            "when": formats.date_format(when, "SHORT_DATETIME_FORMAT")
        }
    return [Panel(title=_("Service level"), text=text, tone="info", key="deadline")]


def on_ticket_panels(sender, ticket, user, audience, **kwargs):
    return customer_panels(ticket) if audience == CUSTOMER else []
