"""One POST to a webhook URL: to a checked address, no redirects, a hard time limit.

Standard library only (http.client): the connection goes to the address that
``addresses.checked_addresses`` approved, with the URL's host name in the Host header and
for TLS (SNI and certificate check), so the name is never looked up a second time. A
timer shuts the socket at the deadline, so a server that drips its answer byte by byte
cannot hold a worker longer than ``timeout`` (and never past the outbox's stuck limit).
"""

import contextlib
import http.client
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from webhooks.addresses import IPAddress, checked_addresses

EXCERPT_BYTES = 2048


@dataclass(frozen=True)
class Reply:
    status: int
    excerpt: str
    duration_ms: int


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host, port, *, address: IPAddress, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((str(self.address), self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    def __init__(self, host, port, *, address: IPAddress, timeout: float):
        super().__init__(host, port, address=address, timeout=timeout)
        self.context = ssl.create_default_context()

    def connect(self):
        super().connect()
        self.sock = self.context.wrap_socket(self.sock, server_hostname=self.host)


def _shut(connection: http.client.HTTPConnection) -> None:
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float) -> Reply:
    """POST ``body`` and read the start of the answer; raises on refusal, network errors and
    the deadline (RefusedAddressError, OSError, TimeoutError, http.client.HTTPException)."""
    scheme, host, port, addresses = checked_addresses(url)
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    start = time.monotonic()
    kind = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    last_error: Exception = TimeoutError("no address answered")
    for address in addresses:
        remaining = timeout - (time.monotonic() - start)
        if remaining <= 0:
            break
        connection = kind(host, port, address=address, timeout=remaining)
        timer = threading.Timer(remaining, _shut, args=[connection])
        timer.start()
        try:
            connection.request("POST", target, body=body, headers=headers)
            response = connection.getresponse()
            excerpt = response.read(EXCERPT_BYTES)
        except (OSError, http.client.HTTPException) as error:
            last_error = error
            if time.monotonic() - start >= timeout:
                raise TimeoutError(f"no answer within {timeout:g} s") from error
            if connection.sock is not None:
                raise  # connected, then failed: another address would get it twice
            continue
        finally:
            timer.cancel()
            connection.close()
        duration = int((time.monotonic() - start) * 1000)
        return Reply(response.status, excerpt.decode("utf-8", "replace"), duration)
    raise last_error
