"""Contact tokens: how a company's mobile app talks to the conversation endpoints as one
of its customers.

The app's backend holds a service token (write, in the channel's pool); it asks
``POST /api/v1/contact-tokens/`` for a token of one customer (by email) on one widget
channel and hands it to that customer's app. The app then sends
``Authorization: Contact <token>``: signed with SECRET_KEY under its own salt, it names
one contact and one channel and expires; every conversation query is narrowed to them, so
a contact never reaches another contact's conversation (an id outside is "not found").
A contact token opens nothing else in the API, and an agent's token opens no
conversation endpoint.

Each token also names its app session (``api.models.ContactToken``), read on every request:
a session signed out (by the app, by an agent, by a contact merge) or a contact deleted
stops the token at once, in every process; nothing about tokens is cached.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions, permissions
from rest_framework.throttling import SimpleRateThrottle

from api.contact_sessions import note_use
from api.models import ContactToken
from chat.models import ChatChannel
from people.models import Contact

SALT = "api.contact-token"
MAX_AGE = 60 * 60 * 24 * 30
KEYWORD = b"contact"


@dataclass
class ContactAccess:
    contact: Contact
    channel: ChatChannel
    session: ContactToken
    # DRF's request.user for a contact: no agent, nobody signed in.
    is_authenticated: bool = True


def issue_app_session(
    contact: Contact, channel: ChatChannel, *, device: str = ""
) -> tuple[ContactToken, str]:
    """A new app session for ``contact`` on ``channel``, and the signed token naming it."""
    session = ContactToken.objects.create(
        contact=contact,
        channel=channel,
        device=device.strip()[:100],
        expires_at=timezone.now() + timedelta(seconds=MAX_AGE),
    )
    payload = {
        "contact": contact.pk,
        "channel": str(channel.public_key),
        "session": str(session.key),
    }
    return session, signing.dumps(payload, salt=SALT)


def issue_contact_token(contact: Contact, channel: ChatChannel, *, device: str = "") -> str:
    return issue_app_session(contact, channel, device=device)[1]


INVALID = _(
    "This contact token is not valid: it expired, or its contact or channel is gone. "
    "Ask for a new one."
)
SIGNED_OUT = _("This contact token was signed out. Ask for a new one.")


class TokenRefusedError(Exception):
    def __init__(self, message, code: str):
        super().__init__(message)
        self.message, self.code = message, code


def access_of(token: str) -> ContactAccess:
    """The access a token gives; TokenRefusedError when forged, expired, signed out, or its
    contact (deleted, merged) or channel (off) is gone. One query: the session row with its
    contact and channel, read afresh on every request."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        raise TokenRefusedError(INVALID, "contact_token_invalid") from None
    data = data if isinstance(data, dict) else {}
    contact_id, channel_key = data.get("contact"), data.get("channel")
    session_key = data.get("session")
    # A token without a session is from before app sessions: the app asks for a new one.
    if not isinstance(contact_id, int) or not isinstance(channel_key, str):
        raise TokenRefusedError(INVALID, "contact_token_invalid")
    if not isinstance(session_key, str):
        raise TokenRefusedError(INVALID, "contact_token_invalid")
    now = timezone.now()
    try:
        session = (
            ContactToken.objects.select_related("contact", "channel")
            .filter(
                key=session_key,
                contact_id=contact_id,
                channel__public_key=channel_key,
                channel__kind=ChatChannel.Kind.WIDGET,
                channel__active=True,
            )
            .first()
        )
    except ValidationError:  # not a UUID
        session = None
    if session is not None and (session.revoked_at or session.contact.merged_into_id):
        raise TokenRefusedError(SIGNED_OUT, "contact_token_revoked")
    if session is None or session.expires_at <= now:
        raise TokenRefusedError(INVALID, "contact_token_invalid")
    note_use(session, now=now)
    return ContactAccess(contact=session.contact, channel=session.channel, session=session)


class ContactTokenAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Send it as: Authorization: Contact <token>."))
        try:
            access = access_of(header[1].decode("ascii", "replace"))
        except TokenRefusedError as refused:
            raise exceptions.AuthenticationFailed(refused.message, code=refused.code) from None
        return access, access

    def authenticate_header(self, request):
        return 'Contact realm="api"'


class IsContact(permissions.BasePermission):
    def has_permission(self, request, view):
        return isinstance(request.auth, ContactAccess)


class ContactRateThrottle(SimpleRateThrottle):
    scope = "contact"

    def get_rate(self):
        from django.conf import settings

        return settings.API_RATE_LIMIT

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ContactAccess):
            ident = f"contact-{request.auth.contact.pk}"
        else:
            ident = f"address-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class ContactTokenScheme(OpenApiAuthenticationExtension):
    target_class = "api.contact_access.ContactTokenAuthentication"
    name = "contactAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Contact <token>`, from POST /api/v1/contact-tokens/.",
        }
