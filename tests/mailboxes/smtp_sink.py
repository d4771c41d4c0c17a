"""A real SMTP server (aiosmtpd) on a loopback port, recording every envelope it accepts."""

import socket
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


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
