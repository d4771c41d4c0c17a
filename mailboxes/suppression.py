"""Addresses that bounced permanently: automatic mail stops, agents are warned, admins lift.

A permanent failure (DSN 5.x.x) of mail we sent suppresses each failed recipient. While the
suppression stands no automatic mail (auto-replies, notifications, surveys, notices) is
queued to it; an agent's hand-written reply needs an explicit confirmation. Lifting keeps
the row as history (lifted_by, lifted_at) and a later bounce suppresses the address again.
"""

from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from mailboxes.models import SuppressedAddress
from tickets.models import Ticket
from tickets.panels import Panel


def _normal(address: str) -> str:
    return address.strip().lower()


def suppressed_among(addresses: Iterable[str]) -> set[str]:
    """The addresses (lower-cased) with a standing suppression; one query, none for none."""
    wanted = {_normal(address) for address in addresses if address and address.strip()}
    if not wanted:
        return set()
    return set(
        SuppressedAddress.objects.active()
        .filter(address__in=wanted)
        .values_list("address", flat=True)
    )


def suppress_addresses(rows: list[SuppressedAddress]) -> list[SuppressedAddress]:
    """Save these unsaved suppressions, but for addresses already suppressed; the new rows.

    One query for the standing ones and one INSERT. Safe to re-run and to race: the
    partial unique constraint keeps one standing row per address (on a clash with a
    concurrent bounce each row is tried alone).
    """
    standing = suppressed_among(row.address for row in rows)
    new: dict[str, SuppressedAddress] = {}
    for row in rows:
        row.address = _normal(row.address)[:254]
        row.reason, row.dsn_status = row.reason[:2000], row.dsn_status[:20]
        if row.bounce is not None and not row.bounce.pk:
            row.bounce = None
        if "@" in row.address and row.address not in standing:
            new.setdefault(row.address, row)
    if not new:
        return []
    try:
        with transaction.atomic():
            return SuppressedAddress.objects.bulk_create(new.values())
    except IntegrityError:
        if len(new) == 1:
            return []  # suppressed by a concurrent bounce
        return [saved for row in new.values() for saved in suppress_addresses([row])]


def lift_suppressions(suppression_ids: Iterable[int], *, actor) -> int:
    """Lift standing suppressions (an admin's decision); returns how many were lifted."""
    return (
        SuppressedAddress.objects.active()
        .filter(pk__in=list(suppression_ids))
        .update(lifted_at=timezone.now(), lifted_by=actor)
    )


def check_reply_recipient(address: str, *, confirmed: bool) -> None:
    """Refuse an agent's reply to a suppressed address unless the agent confirmed it."""
    if confirmed or not address:
        return
    suppression = SuppressedAddress.objects.active().filter(address=_normal(address)).first()
    if suppression is None:
        return
    raise ValidationError(
        _(
            "Mail to %(address)s bounced permanently (%(status)s) and the address is "
            "suppressed. Tick “Send anyway” to mail it all the same."
        )
        % {"address": suppression.address, "status": suppression.dsn_status or _("no status")},
        code="suppressed",
    )


def suppression_panels(ticket: Ticket, *, user) -> list[Panel]:
    """A warning on the agent's ticket page when the requester's address is suppressed."""
    address = ticket.requester.primary_email if ticket.requester is not None else ""
    suppression = (
        SuppressedAddress.objects.active().filter(address=_normal(address)).first()
        if address
        else None
    )
    if suppression is None:
        return []
    url = ""
    if user.has_perm("mailboxes.view_suppressedaddress"):
        url = (
            reverse("admin:mailboxes_suppressedaddress_changelist")
            + "?"
            + urlencode({"q": suppression.address})
        )
    return [
        Panel(
            title=_("Mail to the customer bounced"),
            text=_(
                "%(address)s bounced permanently (%(status)s) on %(date)s. No automatic mail "
                "goes there; a reply needs your confirmation."
            )
            % {
                "address": suppression.address,
                "status": suppression.dsn_status or _("no status"),
                "date": date_format(suppression.created_at, "SHORT_DATE_FORMAT"),
            },
            url=url,
            link_label=_("Suppressed addresses"),
            tone="danger",
            key="suppressed",
            confirm_reply=_("Send anyway: I know this address bounced."),
        )
    ]


def contact_warnings(contact) -> list[str]:
    """The contact's suppressed addresses, as warnings for their admin page."""
    addresses = [email.address for email in contact.emails.all()]
    rows = SuppressedAddress.objects.active().filter(address__in=addresses).order_by("address")
    return [
        _(
            "%(address)s bounced permanently (%(status)s): no automatic mail is sent to it "
            "until an admin lifts the suppression."
        )
        % {"address": row.address, "status": row.dsn_status or _("no status")}
        for row in rows
    ]
