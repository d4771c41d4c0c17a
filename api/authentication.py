"""``Authorization: Bearer <token>``: the only way into the API (no session, so no CSRF)."""

from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions

from api.services import authenticate_token
from people.login import client_address


class TokenAuthentication(authentication.BaseAuthentication):
    keywords = (b"bearer", b"token")

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() not in self.keywords:
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(
                _("Send the token as: Authorization: Bearer <token>.")
            )
        try:
            secret = header[1].decode("ascii")
        except UnicodeDecodeError:
            secret = ""
        token = authenticate_token(secret, address=client_address(request))
        if token is None:
            raise exceptions.AuthenticationFailed(_("This token is unknown, expired or revoked."))
        return token.owner, token

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
