"""What every platform adapter gives the chat app, and the one HTTP client they share.

An adapter turns a verified webhook body into events (``split``), an event into an
``Inbound`` message or a list of ``Receipt`` (``parse``), downloads media, and sends
text, files and templates. It never touches the database: the services do.
"""

import hmac
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings

HTTP_TIMEOUT = 20  # seconds: well inside the outbox's reclaim window


class VerificationError(Exception):
    """The webhook request is not from the platform (wrong secret or signature)."""


class SendError(Exception):
    """A platform refused or could not take a request.

    ``permanent``: retrying cannot help (bad recipient, blocked bot, window closed);
    ``retry_after``: the platform said how long to wait (seconds), e.g. on a rate limit.
    """

    def __init__(self, text: str, *, permanent: bool = False, retry_after: float | None = None):
        super().__init__(text)
        self.permanent = permanent
        self.retry_after = retry_after


class WindowClosedError(SendError):
    """WhatsApp refused a free-form message: the 24-hour window is closed."""

    def __init__(self, text: str):
        super().__init__(text, permanent=True)


@dataclass
class MediaRef:
    """A file the customer sent, to download from the platform."""

    ref: str  # Telegram file_id, WhatsApp media id, Messenger attachment URL
    kind: str  # "image" or "document"
    filename: str = ""
    content_type: str = ""


@dataclass
class Inbound:
    """A customer's message, platform-neutral."""

    external_id: str  # the chat: Telegram chat id, WhatsApp wa_id, Messenger PSID
    platform_message_id: str
    name: str = ""
    text: str = ""
    media: list[MediaRef] = field(default_factory=list)
    phone: str = ""  # a number the customer gave (WhatsApp: always; Telegram: a shared contact)
    sent_at: datetime | None = None


@dataclass
class Receipt:
    """A delivery report about messages we sent: by id, or everything up to a watermark."""

    state: str  # ChatMessage.State: sent, delivered, read or failed
    external_id: str = ""
    platform_message_ids: list[str] = field(default_factory=list)
    watermark: datetime | None = None  # Messenger: everything sent up to then
    error: str = ""


@dataclass
class Download:
    content: bytes
    filename: str
    content_type: str


def constant_time_equal(given: str, expected: str) -> bool:
    """True only for a non-empty match: an unconfigured secret refuses everything."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]):
    """(body, content type) of a multipart/form-data request (RFC 7578)."""
    boundary = secrets.token_hex(16)
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, (filename, content, content_type) in files.items():
        safe = filename.replace('"', "").replace("\r", "").replace("\n", "")
        parts.append(
            (
                f"--{boundary}\r\nContent-Disposition: form-data; "
                f'name="{name}"; filename="{safe}"\r\nContent-Type: {content_type}\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


@dataclass
class Response:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None


def http(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    data: bytes | None = None,
    content_type: str = "",
    headers: dict[str, str] | None = None,
    max_bytes: int | None = None,
) -> Response:
    """One HTTP request; an error status is a Response too, a network failure a SendError.

    ``max_bytes``: refuse a longer body (downloads are bounded by the attachment limit).
    """
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise SendError(f"Refused URL scheme: {url[:40]}", permanent=True)
    headers = dict(headers or {})
    if json_body is not None:
        data = json.dumps(json_body).encode()
        content_type = "application/json"
    if content_type:
        headers["Content-Type"] = content_type
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    limit = max_bytes or settings.TICKET_ATTACHMENT_MAX_BYTES
    try:
        with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer:  # noqa: S310
            body = answer.read(limit + 1)
            status, answer_headers = answer.status, dict(answer.headers.items())
    except urllib.error.HTTPError as error:
        body = error.read(limit + 1)
        status, answer_headers = error.code, dict(error.headers.items())
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        raise SendError(f"Network error: {error}") from error
    if len(body) > limit:
        raise SendError(
            "The platform's answer is larger than the attachment limit.", permanent=True
        )
    return Response(status=status, body=body, headers=answer_headers)


def retry_after_header(response: Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    try:
        return float(value)
    except ValueError:
        return None
