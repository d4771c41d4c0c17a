"""OAuth2 for mailboxes: connect (authorization code with PKCE), keep the token fresh, sign in.

Google and Microsoft no longer take passwords for IMAP, POP3 and SMTP: the servers take an
access token instead (SASL XOAUTH2). An admin connects a mailbox once (``start_connect``,
the provider's consent page, ``finish_connect``); every fetch and send then asks
``access_token`` for a token, refreshed shortly before it expires. When the provider
refuses the refresh (consent revoked, the client secret expired or changed) the mailbox
needs attention: it is flagged, the admins are mailed once, and it is not fetched again
until an admin reconnects it. Never a silent stop.

The protocol is Authlib's (``OAuth2Session``); tokens are stored encrypted
(``helpdesk.crypto``) and never logged.
"""

import base64
import json
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from mailboxes.models import Mailbox, OAuthConnection

logger = logging.getLogger(__name__)

# Token endpoint errors (RFC 6749 section 5.2) that no retry can mend: a person must
# connect the mailbox again (or fix the client secret in the settings).
REFUSALS = {"invalid_grant", "invalid_client", "unauthorized_client"}
# A connect abandoned on the provider's page is forgotten after this.
CONNECT_TIMEOUT = timedelta(minutes=15)

PRESETS: dict[str, dict] = {
    "google": {
        "label": "Google",
        "authorize_url": "https://accounts.google.com/o/oauth2/v2/auth",
        "token_url": "https://oauth2.googleapis.com/token",
        "revoke_url": "https://oauth2.googleapis.com/revoke",
        "userinfo_url": "https://openidconnect.googleapis.com/v1/userinfo",
        "scope": "openid email https://mail.google.com/",
        # Without these Google sends no refresh token on a second connect.
        "authorize_params": {"access_type": "offline", "prompt": "consent"},
    },
    "microsoft": {
        "label": "Microsoft",
        "authorize_url": "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
        "token_url": "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        "revoke_url": "",
        "userinfo_url": "",
        "scope": (
            "openid email offline_access https://outlook.office.com/IMAP.AccessAsUser.All "
            "https://outlook.office.com/POP.AccessAsUser.All "
            "https://outlook.office.com/SMTP.Send"
        ),
        "authorize_params": {"prompt": "select_account"},
    },
    "generic": {"label": gettext_lazy("OAuth2")},
}


@dataclass(frozen=True)
class Provider:
    key: str
    label: str
    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str
    revoke_url: str = ""
    userinfo_url: str = ""
    scope: str = ""
    authorize_params: dict = field(default_factory=dict)


class ReconnectNeeded(Exception):  # noqa: N818 (it names the state, not a fault)
    """The provider refused to refresh the mailbox's token: an admin must connect it again."""


def provider(key: str) -> Provider | None:
    """The provider ``key`` when it is configured (a client id and its endpoints), else None."""
    if key not in PRESETS:
        return None
    configured = settings.OAUTH_PROVIDERS.get(key, {})
    values = {**PRESETS[key], **{k: v for k, v in configured.items() if v}}
    tenant = values.pop("tenant", "common")
    for name in ("authorize_url", "token_url"):
        values[name] = values.get(name, "").replace("{tenant}", tenant)
    if not (values.get("client_id") and values["authorize_url"] and values["token_url"]):
        return None
    return Provider(
        key=key,
        label=str(values["label"]),
        client_id=values["client_id"],
        client_secret=values.get("client_secret", ""),
        authorize_url=values["authorize_url"],
        token_url=values["token_url"],
        revoke_url=values.get("revoke_url", ""),
        userinfo_url=values.get("userinfo_url", ""),
        scope=values.get("scope", ""),
        authorize_params=dict(values.get("authorize_params", {})),
    )


def provider_label(key: str) -> str:
    """The provider's name to show (set up or not)."""
    found = provider(key)
    return found.label if found else str(PRESETS.get(key, {}).get("label", key))


def configured_providers() -> list[Provider]:
    return [found for key in PRESETS if (found := provider(key)) is not None]


def redirect_uri() -> str:
    """The one callback every provider sends the admin back to (register it there)."""
    return settings.SITE_URL.rstrip("/") + reverse("mailbox_settings:oauth_callback")


def _session(chosen: Provider) -> OAuth2Session:
    return OAuth2Session(
        client_id=chosen.client_id,
        client_secret=chosen.client_secret,
        scope=chosen.scope or None,
        redirect_uri=redirect_uri(),
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 (a method's name)
    )


def xoauth2_string(account: str, access_token: str) -> str:
    """The SASL XOAUTH2 initial response (before base64), as Google and Microsoft define it."""
    return f"user={account}\x01auth=Bearer {access_token}\x01\x01"


# --- connecting ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingConnect:
    """What the callback must find again in the admin's session: never sent to the browser
    but for ``state``, which the provider hands back."""

    mailbox_id: int
    provider: str
    state: str
    verifier: str
    started: float

    def expired(self, now: datetime) -> bool:
        return now.timestamp() - self.started > CONNECT_TIMEOUT.total_seconds()


def start_connect(mailbox: Mailbox, chosen: Provider) -> tuple[str, PendingConnect]:
    """The provider's consent URL for ``mailbox`` and the secrets the callback checks.

    ``state`` (CSRF, RFC 6749 10.12) and the PKCE verifier (RFC 7636, S256) are fresh
    random strings; the caller keeps the PendingConnect in the admin's own session.
    """
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters: RFC 7636 wants 43 to 128
    url, _state = _session(chosen).create_authorization_url(
        chosen.authorize_url, state=state, code_verifier=verifier, **chosen.authorize_params
    )
    pending = PendingConnect(mailbox.pk, chosen.key, state, verifier, timezone.now().timestamp())
    return url, pending


def finish_connect(
    mailbox: Mailbox, chosen: Provider, *, code: str, verifier: str, actor=None
) -> OAuthConnection:
    """Trade the authorization code for tokens and store them on the mailbox.

    Raises OAuthError (the provider refused) or OSError-like request errors; nothing is
    stored then. A mailbox that needed attention for its grant is fetched again at once.
    """
    session = _session(chosen)
    token = session.fetch_token(
        chosen.token_url,
        grant_type="authorization_code",
        code=code,
        code_verifier=verifier,
        timeout=settings.OAUTH_TIMEOUT_SECONDS,
    )
    account = _account_of(chosen, token, session)
    now = timezone.now()
    with transaction.atomic():
        previous = OAuthConnection.objects.filter(mailbox=mailbox).first()
        connection, _created = OAuthConnection.objects.update_or_create(
            mailbox=mailbox,
            defaults={
                "provider": chosen.key,
                "account": account,
                "access_token": token["access_token"],
                "refresh_token": token.get("refresh_token", ""),
                "expires_at": _expiry(token),
                "scope": token.get("scope", chosen.scope),
                "connected_at": now,
                "connected_by": actor,
                "refreshed_at": None,
                "failed_at": None,
                "failure": "",
            },
        )
        resume = {"next_fetch_at": now, "consecutive_failures": 0}
        if previous is not None and previous.failed_at is not None:
            # The note was ours (the refused refresh): reconnecting is what it asked for.
            resume |= {"attention": "", "attention_at": None, "last_error": ""}
        Mailbox.objects.filter(pk=mailbox.pk).update(**resume)
    logger.info("mail.oauth_connected mailbox=%s provider=%s", mailbox.pk, chosen.key)
    return connection


def disconnect(mailbox: Mailbox) -> bool:
    """Forget the mailbox's tokens (revoked at the provider when it can); True if it had some.

    The revocation is best effort (RFC 7009): the tokens are gone here either way.
    """
    connection = OAuthConnection.objects.filter(mailbox=mailbox).first()
    if connection is None:
        return False
    chosen = provider(connection.provider)
    if chosen is not None and chosen.revoke_url and connection.refresh_token:
        try:
            _session(chosen).revoke_token(
                chosen.revoke_url,
                token=connection.refresh_token,
                token_type_hint="refresh_token",  # noqa: S106 (RFC 7009's hint)
                timeout=settings.OAUTH_TIMEOUT_SECONDS,
            )
        except Exception as error:  # the provider is down: still forget the tokens here
            logger.warning(
                "mail.oauth_revoke_failed mailbox=%s error=%s", mailbox.pk, type(error).__name__
            )
    connection.delete()
    logger.info("mail.oauth_disconnected mailbox=%s", mailbox.pk)
    return True


def _expiry(token) -> datetime | None:
    expires_at = token.get("expires_at")
    if expires_at:
        return datetime.fromtimestamp(int(expires_at), tz=UTC)
    return None


def _id_token_claims(id_token: str | None) -> dict:
    """The claims of an OpenID Connect ID token, unverified.

    It came straight from the token endpoint over TLS in answer to our own request (OIDC
    Core 3.1.3.7 lets a client rely on TLS there), and it only names the account to show
    and to sign in as: the mail server checks the access token itself.
    """
    if not id_token or id_token.count(".") != 2:
        return {}
    payload = id_token.split(".")[1]
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return {}
    return claims if isinstance(claims, dict) else {}


def _account_of(chosen: Provider, token, session: OAuth2Session) -> str:
    """The mail address the grant is for: from the ID token, else the userinfo endpoint."""
    claims = _id_token_claims(token.get("id_token"))
    if not any(claims.get(key) for key in ("email", "preferred_username")) and chosen.userinfo_url:
        response = session.get(chosen.userinfo_url, timeout=settings.OAUTH_TIMEOUT_SECONDS)
        response.raise_for_status()
        claims = response.json()
    for key in ("email", "preferred_username", "upn"):
        value = claims.get(key)
        if isinstance(value, str) and value:
            return value[:255]
    raise ValueError("the provider did not say which account it granted")


# --- using the token ----------------------------------------------------------------------


def _is_fresh(connection: OAuthConnection, now: datetime) -> bool:
    if not connection.access_token:
        return False
    if connection.expires_at is None:
        return True
    margin = timedelta(seconds=settings.OAUTH_REFRESH_MARGIN_SECONDS)
    return connection.expires_at - margin > now


def access_token(mailbox: Mailbox, *, rejected: str = "") -> tuple[str, str]:
    """(account, access token) to sign in with, refreshed when it is about to expire.

    ``rejected``: a token the server just refused although it had not expired (revoked,
    say): it is refreshed whatever its expiry, unless another worker already replaced it.
    Raises ReconnectNeeded when the provider refused the grant (now or before); other
    errors (the provider unreachable) propagate, and the fetch or send retries later.
    """
    connection = OAuthConnection.objects.filter(mailbox_id=mailbox.pk).first()
    if connection is None:
        raise LookupError(f"mailbox {mailbox.pk} is not connected with OAuth2")
    usable = connection.failed_at is None and connection.access_token != rejected
    if usable and _is_fresh(connection, timezone.now()):
        return connection.account, connection.access_token
    connection = _refresh(connection.pk, rejected=rejected)
    return connection.account, connection.access_token


def _refresh(connection_id: int, *, rejected: str = "") -> OAuthConnection:
    refused = ""
    # The row stays locked during the request: providers that rotate refresh tokens
    # (Microsoft) answer invalid_grant to the second of two refreshes with the same one,
    # so a fetch and a send that both find the token old must not refresh side by side.
    with transaction.atomic():
        connection = (
            OAuthConnection.objects.select_for_update(of=("self",))
            .select_related("mailbox")
            .get(pk=connection_id)
        )
        if connection.failed_at is not None:
            refused = connection.failure
        elif connection.access_token != rejected and _is_fresh(connection, timezone.now()):
            return connection  # another worker refreshed it while we waited for the lock
        else:
            chosen = provider(connection.provider)
            try:
                if chosen is None or not connection.refresh_token:
                    raise OAuthError(error="invalid_client", description="provider not set up")
                token = _session(chosen).refresh_token(
                    chosen.token_url,
                    refresh_token=connection.refresh_token,
                    timeout=settings.OAUTH_TIMEOUT_SECONDS,
                )
            except OAuthError as error:
                if error.error not in REFUSALS:
                    raise  # temporarily_unavailable and the like: try again later
                refused = f"{error.error}: {error.description or ''}".strip(": ")[:255]
                _mark_refused(connection, refused)
            else:
                connection.access_token = token["access_token"]
                # Providers that rotate refresh tokens send a new one; others keep the old.
                connection.refresh_token = token.get("refresh_token") or connection.refresh_token
                connection.expires_at = _expiry(token)
                connection.refreshed_at = timezone.now()
                connection.save(
                    update_fields=["access_token", "refresh_token", "expires_at", "refreshed_at"]
                )
                logger.info("mail.oauth_refreshed mailbox=%s", connection.mailbox_id)
                return connection
    raise ReconnectNeeded(refused)


def _mark_refused(connection: OAuthConnection, error: str) -> None:
    """Flag the mailbox and mail the admins; the conditional UPDATE makes it happen once."""
    now = timezone.now()
    first = OAuthConnection.objects.filter(pk=connection.pk, failed_at__isnull=True).update(
        failed_at=now, failure=error
    )
    if not first:
        return
    mailbox = connection.mailbox
    note = gettext(
        "%(time)s UTC: %(provider)s refused to renew the sign-in of %(account)s (%(error)s). "
        "The mailbox is not fetched and its mail is not sent until an administrator connects "
        "it again on its settings page."
    ) % {
        "time": f"{now:%Y-%m-%d %H:%M}",
        "provider": provider_label(connection.provider),
        "account": connection.account,
        "error": error,
    }
    Mailbox.objects.filter(pk=mailbox.pk).update(attention=note, attention_at=now)
    logger.warning(
        "mail.oauth_refresh_refused mailbox=%s provider=%s error=%s",
        mailbox.pk,
        connection.provider,
        error.split(":")[0],
    )
    _tell_admins(mailbox, connection, error)


def _tell_admins(mailbox: Mailbox, connection: OAuthConnection, error: str) -> None:
    from mailboxes.notifications import queue_admin_notices  # it imports outbound, us

    link = settings.SITE_URL.rstrip("/") + reverse("mailbox_settings:detail", args=[mailbox.pk])
    context = {
        "mailbox": mailbox,
        "connection": connection,
        "provider": provider_label(connection.provider),
        "error": error,
        "link": link,
    }
    queue_admin_notices("mailboxes/emails/oauth_refused", context)
