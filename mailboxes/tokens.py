"""Signed reply addresses: support+<token>@domain threads a reply without trusting the subject."""

import hashlib
import hmac
import re

from django.conf import settings

_TOKEN = re.compile(r"^(?P<local>[^+@]+)\+t(?P<pk>\d+)-(?P<sig>[0-9a-f]{10})@(?P<domain>.+)$", re.I)


def _signature(ticket_pk: int) -> str:
    key = f"{settings.SECRET_KEY}:reply-address".encode()
    return hmac.new(key, str(ticket_pk).encode(), hashlib.sha256).hexdigest()[:10]


def make_reply_address(from_address: str, ticket_pk: int) -> str:
    """``support@example.com`` + ticket 42 -> ``support+t42-<sig>@example.com``."""
    local, _, domain = from_address.partition("@")
    return f"{local}+t{ticket_pk}-{_signature(ticket_pk)}@{domain}"


def ticket_pk_from_address(address: str) -> int | None:
    """The ticket a signed reply address points at, or None when absent or forged."""
    match = _TOKEN.match(address.strip())
    if not match:
        return None
    pk = int(match["pk"])
    return pk if hmac.compare_digest(match["sig"].lower(), _signature(pk)) else None
