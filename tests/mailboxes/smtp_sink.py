"""A real SMTP server (aiosmtpd) on a loopback port, recording every envelope it accepts."""

import asyncio
import base64
import json
import socket
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import requests
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


@dataclass
class Envelope:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=policy.default)  # type: ignore[return-value]


@dataclass
class SmtpSink:
    port: int
    envelopes: list[Envelope] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.envelopes.append(
            Envelope(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
        )
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        return [envelope.message for envelope in self.envelopes]


def free_port() -> int:
    """A loopback port nobody listens on (yet)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running_sink(sink: SmtpSink):
    """Serve ``sink`` on its port until the block ends; start it again later with a new block."""
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def mailers_for(port: int) -> dict:
    """MAILERS that send to the sink by real SMTP (the test runner's default is locmem)."""
    return {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 5},
        }
    }


@dataclass
class AuthSmtpSink(SmtpSink):
    """A sink that takes mail only after AUTH: PLAIN/LOGIN with ``password``, or XOAUTH2 with
    a token the OAuth provider's introspection endpoint (RFC 7662) calls active for the user.

    ``logins``: (user, mechanism) of each successful AUTH; every envelope was sent signed in.
    """

    password: str = ""
    introspection_url: str = ""
    logins: list[tuple[str, str]] = field(default_factory=list)

    def authenticate(self, server, session, envelope, mechanism, auth_data):
        login = auth_data.login.decode()
        ok = bool(self.password) and auth_data.password.decode() == self.password
        if ok:
            self.logins.append((login, mechanism))
        return AuthResult(success=ok, auth_data=login)

    async def auth_XOAUTH2(self, server, args):  # noqa: N802 (aiosmtpd's hook name)
        blob = args[1] if len(args) > 1 else ""
        fields = dict(
            part.split("=", 1)
            for part in base64.b64decode(blob).decode().split("\x01")
            if "=" in part
        )
        user, token = fields.get("user", ""), fields.get("auth", "").removeprefix("Bearer ")
        answer = await asyncio.to_thread(
            requests.post, self.introspection_url, data={"token": token}, timeout=5
        )
        info = answer.json()
        if self.introspection_url and info.get("active") and info.get("username") == user:
            self.logins.append((user, "XOAUTH2"))
            return AuthResult(success=True, auth_data=user)
        # Google's way: a JSON error as a challenge, the client's empty answer, then 535.
        await server.challenge_auth(json.dumps({"status": "401", "schemes": "bearer"}))
        return AuthResult(success=False, handled=False)

    async def handle_MAIL(self, server, session, envelope, address, mail_options):  # noqa: N802
        if not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"


@contextmanager
def running_auth_sink(sink: AuthSmtpSink):
    """Serve ``sink`` with AUTH offered over plain SMTP (loopback, tests only)."""
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=sink.port,
        auth_require_tls=False,
        authenticator=sink.authenticate,
    )
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
