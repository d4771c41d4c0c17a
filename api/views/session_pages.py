"""A customer's app sessions, for the agents of the channels' pools: what is signed in,
since when, last used, until when; sign one or all out (each POST confirmed in the page)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from api.contact_sessions import revoke_contact_tokens, sessions_of_contact_for
from api.models import ContactToken
from people.decorators import agent_required
from people.models import Contact

RECENT_REVOKED = 20


def _contact_and_sessions(user, contact_id):
    """The contact and the sessions ``user`` may see; 404 when they may see none at all, so
    an agent of another pool learns nothing (not even that the contact has an app)."""
    contact = get_object_or_404(Contact, pk=contact_id)
    sessions = sessions_of_contact_for(user, contact)
    if not sessions.exists():
        raise Http404
    return contact, sessions


@require_GET
@login_required
@agent_required
def session_list(request, contact_id):
    contact, sessions = _contact_and_sessions(request.user, contact_id)
    context = {
        "contact": contact,
        "active": sessions.active(),
        "revoked": sessions.filter(revoked_at__isnull=False).order_by("-revoked_at")[
            :RECENT_REVOKED
        ],
    }
    return render(request, "api/contacttoken_list.html", context)


@require_POST
@login_required
@agent_required
def session_revoke(request, contact_id, key):
    contact, sessions = _contact_and_sessions(request.user, contact_id)
    session = get_object_or_404(sessions, key=key)
    if revoke_contact_tokens(
        sessions.filter(pk=session.pk), actor=request.user, reason=ContactToken.Reason.AGENT
    ):
        messages.success(request, _("The app session was signed out."))
    return redirect("app_sessions:list", contact.pk)


@require_POST
@login_required
@agent_required
def session_revoke_all(request, contact_id):
    """Every session the agent may see (their pools' channels): another pool's stay."""
    contact, sessions = _contact_and_sessions(request.user, contact_id)
    count = revoke_contact_tokens(sessions, actor=request.user, reason=ContactToken.Reason.AGENT)
    message = ngettext(
        "%(count)d app session was signed out.", "%(count)d app sessions were signed out.", count
    )
    messages.success(request, message % {"count": count})
    return redirect("app_sessions:list", contact.pk)
