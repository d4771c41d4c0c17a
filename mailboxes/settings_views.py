"""Admins' mailbox pages: their state, and connecting one to Google or Microsoft (OAuth2)."""

import dataclasses
import logging
import secrets
from typing import cast
from urllib.parse import urlsplit

from authlib.integrations.base_client.errors import OAuthError
from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from requests import RequestException

from mailboxes import oauth
from mailboxes.ingest import clear_mailbox_attention
from mailboxes.models import Mailbox
from people.features import Feature
from people.profiles import feature_required, is_admin

logger = logging.getLogger(__name__)

# The connect in progress: kept server-side in the admin's own session, so a callback
# carrying someone else's state (or a code from another browser) finds nothing to finish.
SESSION_PENDING = "mailboxes.oauth_pending"


# A settings section: administrators, or agents whose access profile grants the sections.
settings_section = feature_required(Feature.ADMIN_SECTIONS, without_profile=is_admin)


def _mailboxes():
    return Mailbox.objects.select_related("pool", "oauth")


@settings_section
def mailbox_list(request):
    context = {"mailboxes": _mailboxes().order_by("name")}
    return render(request, "mailboxes/mailbox_list.html", context)


@settings_section
def mailbox_detail(request, mailbox_id):
    mailbox = get_object_or_404(_mailboxes(), pk=mailbox_id)
    providers = oauth.configured_providers()
    context = {
        "mailbox": mailbox,
        "connection": mailbox.oauth_connection,
        "provider_label": oauth.provider_label(getattr(mailbox.oauth_connection, "provider", "")),
        "providers": providers,
        "redirect_uri": oauth.redirect_uri(),
    }
    response = render(request, "mailboxes/mailbox_detail.html", context)
    # The Connect forms post here and are redirected to the provider: browsers check
    # form-action along the redirects, so this page alone also allows the providers' origins.
    base = cast(dict[str, list[str]], settings.SECURE_CSP)
    origins = sorted({_origin(found.authorize_url) for found in providers})
    policy = {**base, "form-action": [*base.get("form-action", []), *origins]}
    setattr(response, "_csp_config", policy)  # noqa: B010 (what csp_override sets)
    return response


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@require_POST
@settings_section
def connect(request, mailbox_id, provider_key):
    mailbox = get_object_or_404(Mailbox, pk=mailbox_id)
    chosen = oauth.provider(provider_key)
    if chosen is None:
        raise Http404
    url, pending = oauth.start_connect(mailbox, chosen)
    request.session[SESSION_PENDING] = dataclasses.asdict(pending)
    return redirect(url)


@settings_section
def oauth_callback(request):
    stored = request.session.pop(SESSION_PENDING, None)
    state = request.GET.get("state", "")
    if not stored or not secrets.compare_digest(state.encode(), stored["state"].encode()):
        logger.warning("mail.oauth_state_mismatch user=%s", request.user.pk)
        messages.error(request, _("That sign-in was not started here, or it expired: try again."))
        return redirect("mailbox_settings:list")
    pending = oauth.PendingConnect(**stored)
    mailbox = get_object_or_404(Mailbox, pk=pending.mailbox_id)
    chosen = oauth.provider(pending.provider)
    if pending.expired(timezone.now()) or chosen is None:
        messages.error(request, _("That sign-in was not started here, or it expired: try again."))
    elif "error" in request.GET or not request.GET.get("code"):
        messages.error(request, _("The provider did not grant access; nothing was changed."))
    else:
        try:
            connection = oauth.finish_connect(
                mailbox,
                chosen,
                code=request.GET["code"],
                verifier=pending.verifier,
                actor=request.user,
            )
        except (OAuthError, RequestException, ValueError, KeyError) as error:
            logger.warning(
                "mail.oauth_connect_failed mailbox=%s error=%s", mailbox.pk, type(error).__name__
            )
            messages.error(request, _("The provider refused the sign-in; nothing was changed."))
        else:
            messages.success(
                request, _("Connected as %(account)s.") % {"account": connection.account}
            )
    return redirect("mailbox_settings:detail", mailbox.pk)


@require_POST
@settings_section
def disconnect(request, mailbox_id):
    mailbox = get_object_or_404(Mailbox, pk=mailbox_id)
    if oauth.disconnect(mailbox):
        messages.success(request, _("Disconnected: the mailbox's tokens are deleted."))
    return redirect("mailbox_settings:detail", mailbox.pk)


@require_POST
@settings_section
def clear_attention(request, mailbox_id):
    mailbox = get_object_or_404(Mailbox, pk=mailbox_id)
    clear_mailbox_attention([mailbox.pk])
    messages.success(request, _("Note cleared."))
    return redirect("mailbox_settings:detail", mailbox.pk)
