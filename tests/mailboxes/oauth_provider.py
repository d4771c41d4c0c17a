"""A small OAuth 2.0 authorization server on a loopback port, for the mailbox OAuth tests.

What the RFCs ask of the endpoints the product and Dovecot use, nothing more:
- ``/authorize`` (RFC 6749 4.1, PKCE RFC 7636 with S256 only): checks the client, the
  redirect URI and the challenge, then approves at once (the person "signing in" is
  ``next_account``) and redirects back with ``code`` and ``state``;
- ``/token`` (RFC 6749 4.1.3 and 6): the authorization_code grant (verifier checked,
  code used once) and the refresh_token grant; errors as JSON (``invalid_grant``...);
- ``/revoke`` (RFC 7009): revoking a refresh token ends its whole grant;
- ``/introspect`` (RFC 7662): ``active`` and ``username`` for a token, what Dovecot's
  oauth2 passdb asks (POST ``token=``);
- ``/userinfo``: the account's address for a Bearer token (OpenID Connect's shape).
"""

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlsplit

CLIENT_ID = "helpdesk-test"
CLIENT_SECRET = "client-secret-for-tests"


@dataclass
class Grant:
    account: str
    client_id: str
    scope: str
    revoked: bool = False


@dataclass
class OAuthProvider:
    host: str = "127.0.0.1"
    port: int = 0
    access_lifetime: int = 3600
    next_account: str = ""
    codes: dict = field(default_factory=dict)
    access_tokens: dict = field(default_factory=dict)  # token -> (grant, expires at)
    refresh_tokens: dict = field(default_factory=dict)  # token -> grant
    # Every grant_type the token endpoint answered (to count refreshes), and introspections.
    token_requests: list = field(default_factory=list)
    introspections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def settings(self) -> dict:
        """OAUTH_PROVIDERS["generic"] for the product."""
        return {
            "label": "Test provider",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "authorize_url": f"{self.url}/authorize",
            "token_url": f"{self.url}/token",
            "revoke_url": f"{self.url}/revoke",
            "userinfo_url": f"{self.url}/userinfo",
            "scope": "mail",
        }

    def start(self) -> "OAuthProvider":
        provider = self

        class Handler(_Handler):
            pass

        Handler.provider = provider
        self.server = ThreadingHTTPServer((self.host, self.port), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    # --- what a test does to the provider's state ---------------------------------------

    def expire_access_tokens(self) -> None:
        """Time passes: every access token issued so far has expired."""
        with self.lock:
            for token, (grant, _expires) in list(self.access_tokens.items()):
                self.access_tokens[token] = (grant, time.time() - 1)

    def refreshes(self) -> int:
        return self.token_requests.count("refresh_token")

    # --- the endpoints ---------------------------------------------------------------------

    def issue(self, grant: Grant, *, refresh_token: str = "") -> dict:
        access = secrets.token_urlsafe(24)
        with self.lock:
            self.access_tokens[access] = (grant, time.time() + self.access_lifetime)
            if not refresh_token:
                refresh_token = secrets.token_urlsafe(24)
                self.refresh_tokens[refresh_token] = grant
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": self.access_lifetime,
            "refresh_token": refresh_token,
            "scope": grant.scope,
        }

    def active_grant(self, access_token: str) -> Grant | None:
        with self.lock:
            found = self.access_tokens.get(access_token)
        if found is None:
            return None
        grant, expires = found
        return None if grant.revoked or expires <= time.time() else grant


class _Handler(BaseHTTPRequestHandler):
    provider: OAuthProvider

    def log_message(self, format, *args):
        pass  # quiet test output

    def _json(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _form(self) -> dict[str, str]:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode()
        return {key: values[0] for key, values in parse_qs(body).items()}

    def _client_ok(self, form: dict[str, str]) -> bool:
        """client_secret_post or client_secret_basic (RFC 6749 2.3.1)."""
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return client_id == CLIENT_ID and secrets.compare_digest(secret, CLIENT_SECRET)

    def do_GET(self):
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if parts.path == "/authorize":
            self._authorize(query)
        elif parts.path == "/userinfo":
            self._userinfo()
        elif parts.path == "/introspect":
            self._introspect(query)
        else:
            self._json(404, {"error": "not_found"})

    def do_POST(self):
        path = urlsplit(self.path).path
        form = self._form()
        if path == "/token":
            self._token(form)
        elif path == "/revoke":
            self._revoke(form)
        elif path == "/introspect":
            self._introspect(form)
        else:
            self._json(404, {"error": "not_found"})

    def _authorize(self, query: dict[str, str]) -> None:
        provider = self.provider
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != CLIENT_ID or not redirect_uri.startswith("http"):
            # Never redirect to an unchecked URI (RFC 6749 4.1.2.1): answer here.
            self._json(400, {"error": "invalid_request"})
            return
        if (
            query.get("response_type") != "code"
            or query.get("code_challenge_method") != "S256"
            or not query.get("code_challenge")
        ):
            error = {"error": "invalid_request", "state": query.get("state", "")}
            self._redirect(redirect_uri, error)
            return
        code = secrets.token_urlsafe(24)
        with provider.lock:
            provider.codes[code] = {
                "redirect_uri": redirect_uri,
                "challenge": query["code_challenge"],
                "account": provider.next_account,
                "scope": query.get("scope", ""),
                "expires": time.time() + 60,
            }
        self._redirect(redirect_uri, {"code": code, "state": query.get("state", "")})

    def _redirect(self, uri: str, params: dict[str, str]) -> None:
        self.send_response(302)
        separator = "&" if "?" in uri else "?"
        self.send_header("Location", uri + separator + urlencode(params))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _token(self, form: dict[str, str]) -> None:
        provider = self.provider
        provider.token_requests.append(form.get("grant_type", ""))
        if not self._client_ok(form):
            self._json(401, {"error": "invalid_client"})
            return
        if form.get("grant_type") == "authorization_code":
            with provider.lock:
                code = provider.codes.pop(form.get("code", ""), None)  # used once
            verifier = form.get("code_verifier", "")
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            if (
                code is None
                or code["expires"] < time.time()
                or code["redirect_uri"] != form.get("redirect_uri")
                or not secrets.compare_digest(challenge, code["challenge"])
            ):
                self._json(400, {"error": "invalid_grant"})
                return
            new = Grant(account=code["account"], client_id=CLIENT_ID, scope=code["scope"])
            self._json(200, provider.issue(new))
        elif form.get("grant_type") == "refresh_token":
            refresh_token = form.get("refresh_token", "")
            with provider.lock:
                known: Grant | None = provider.refresh_tokens.get(refresh_token)
            if known is None or known.revoked:
                self._json(400, {"error": "invalid_grant", "error_description": "revoked"})
                return
            self._json(200, provider.issue(known, refresh_token=refresh_token))
        else:
            self._json(400, {"error": "unsupported_grant_type"})

    def _revoke(self, form: dict[str, str]) -> None:
        provider = self.provider
        if not self._client_ok(form):
            self._json(401, {"error": "invalid_client"})
            return
        token = form.get("token", "")
        with provider.lock:
            grant = provider.refresh_tokens.get(token)
            if grant is None and token in provider.access_tokens:
                grant = provider.access_tokens[token][0]
            if grant is not None:
                grant.revoked = True  # the whole grant: its access tokens die with it
        # RFC 7009 2.2: 200 also for a token the server does not know.
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _introspect(self, form: dict[str, str]) -> None:
        provider = self.provider
        provider.introspections += 1
        grant = provider.active_grant(form.get("token", ""))
        if grant is None:
            self._json(200, {"active": False})
            return
        self._json(
            200,
            {
                "active": True,
                "username": grant.account,
                "client_id": grant.client_id,
                "scope": grant.scope,
                "token_type": "Bearer",
            },
        )

    def _userinfo(self) -> None:
        header = self.headers.get("Authorization", "")
        grant = self.provider.active_grant(header.removeprefix("Bearer ").strip())
        if not header.startswith("Bearer ") or grant is None:
            self._json(401, {"error": "invalid_token"})
            return
        self._json(200, {"sub": grant.account, "email": grant.account})
