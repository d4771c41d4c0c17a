"""The API app's box on a customer's page: their app sessions (contact tokens)."""

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _

from api.contact_sessions import sessions_of_contact_for
from tickets import signals
from tickets.panels import ON_CONTACT, Panel, PanelRow

LISTED = 10


def _when(moment) -> str:
    return date_format(localtime(moment), "SHORT_DATETIME_FORMAT") if moment else _("never")


def _on_contact_panels(sender, *, contact, user, place, **kwargs):
    """The contact's active app sessions on channels of the agent's pools (page only, one
    query); nothing when there are none."""
    if place != ON_CONTACT:
        return []
    active = list(sessions_of_contact_for(user, contact).active()[:LISTED])
    if not active:
        return []
    rows = tuple(
        PanelRow(
            text=f"{session.device or _('App')} · {session.channel.name}",
            note=_("last used %(used)s, until %(expires)s")
            % {"used": _when(session.last_used_at), "expires": _when(session.expires_at)},
        )
        for session in active
    )
    return [
        Panel(
            title=_("App sessions"),
            rows=rows,
            url=reverse("app_sessions:list", args=[contact.pk]),
            link_label=_("Manage app sessions"),
            key="app-sessions",
        )
    ]


def connect() -> None:
    signals.contact_panels.connect(_on_contact_panels, dispatch_uid="api-contact-panels")
