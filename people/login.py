"""Sign-in throttling (django-axes): what a failed attempt is counted against, and the answer.

Failures are counted per account (from any address) and per address (against any account),
separately: guessing one password from many addresses and trying many accounts from one
address both run into the limit. An unknown user name is counted like a real one, and a
locked-out sign-in gets the same page whatever the password and whether the account exists.
"""

from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import gettext as _


def username_of(request, credentials) -> str:
    """The name as typed, folded the way people mistype it (one counter per account)."""
    if credentials:
        name = credentials.get("username")
    else:
        name = request.POST.get("username") if request is not None else None
    return (name or "").strip().lower()


def client_address(request) -> str:
    """The client's address: behind our HTTPS proxy, the one it appended to X-Forwarded-For."""
    if settings.SECURE_PROXY_SSL_HEADER:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.rsplit(",", 1)[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def locked_out(request, original_response=None, credentials=None) -> HttpResponse:
    """The sign-in page again (its form says to wait), answered 429 Too Many Requests."""
    if original_response is None:
        return HttpResponse(
            _("Too many failed sign-ins. Wait a few minutes and try again."), status=429
        )
    original_response.status_code = 429
    return original_response
