"""The phone desk's boxes on the customer's card and page: their plans and their calls."""

from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from people.features import Feature
from people.profiles import has_feature
from phone.models import Call, Plan
from tickets import signals
from tickets.panels import ON_TICKET, Panel, PanelRow

CALLS_LISTED = 50


def _on_contact_panels(sender, *, contact, user, place, **kwargs):
    """Plans of the contact's organisation (card and page); the calls of the agent's pools
    (page only). One query each."""
    panels = []
    plans = (
        list(
            Plan.objects.filter(organization_id=contact.organization_id, active=True)
            .select_related("product")
            .order_by("product__name")
        )
        if contact.organization_id
        else []
    )
    if plans:
        rows = tuple(PanelRow(text=str(plan), note=str(plan.product)) for plan in plans)
        panels.append(Panel(title=_("Plans"), rows=rows, key="plans"))
    if place == ON_TICKET:
        return panels  # the card stays short: the calls are on the contact's page
    if not has_feature(user, Feature.PHONE_DESK):
        return panels  # calls are the phone desk's, which this agent's profile leaves out
    calls = Call.objects.visible_to(user).filter(contact=contact)
    listed = list(calls.select_related("ticket").order_by("-started_at", "-id")[:CALLS_LISTED])
    rows = tuple(
        PanelRow(
            text=" · ".join(
                part
                for part in (
                    call.get_direction_display(),
                    call.customer_display,
                    call.get_state_display(),
                    call.ticket.tag_label if call.ticket else "",
                )
                if part
            ),
            url=call.ticket.get_absolute_url() if call.ticket else "",
            note=date_format(localtime(call.started_at), "SHORT_DATETIME_FORMAT"),
        )
        for call in listed
    )
    panels.append(
        Panel(
            title=_("Calls"),
            text="" if rows else _("No calls in your pools."),
            rows=rows,
            key="calls",
        )
    )
    return panels


def connect() -> None:
    signals.contact_panels.connect(_on_contact_panels, dispatch_uid="phone-contact-panels")
