"""Outgoing mail as MIME, built with the stdlib's ``email.mime`` classes (the compat32 API).

Django's ``EmailMessage.message()`` builds every mail with ``email.policy.default``, whose
header registry parses and refolds each header it is given: about 1.6 ms of CPU for a
plain two-part auto-reply, most of an automatic mail's cost in a flood. The classic API
takes the headers as they are, so this module checks them itself (no line break in any
value, addresses parsed, IDNA for a non-ASCII domain) and builds the same tree in about a
quarter of the time:

    multipart/mixed                      (only with attachments)
      multipart/alternative              (only with an HTML body)
        text/plain                       quoted-printable, UTF-8
        multipart/related                (only with inline images)
          text/html                      quoted-printable, UTF-8
          image/...                      base64, Content-ID, inline
      application/...                    base64, the file name RFC 2231-encoded

Lines end in CRLF (``POLICY``), as SMTP wants them, for every mail backend.
"""

import email
from collections.abc import Iterable, Sequence
from email import encoders
from email.charset import QP, Charset
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import formataddr, formatdate, getaddresses, make_msgid
from typing import Any


class _Policy(Compat32):
    """compat32 with CRLF, writing a short one-line ASCII header as it is: compat32 wraps
    every header in a ``Header`` to fold it, half the cost of writing a mail out."""

    def _fold(self, name, value, sanitize):  # type: ignore[misc] # typeshed lacks it
        if (
            isinstance(value, str)
            and len(name) + len(value) + 2 <= 78
            and value.isascii()
            and "\n" not in value
            and "\r" not in value
        ):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)  # type: ignore[misc]


POLICY = _Policy(linesep="\r\n")

UTF8 = Charset("utf-8")
UTF8.body_encoding = QP  # readable and 7-bit safe, whatever the relay supports

# Set from the mail itself, never from a caller's extra headers.
_OWN = {"from", "to", "cc", "reply-to", "subject", "bcc"}


def _checked(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise ValueError(f"header {name!r} must be one line: {value!r}")
    return value


def _text(name: str, value: str) -> Any:
    """A free-text header: as it is when ASCII, else RFC 2047 encoded words (a ``Header``,
    which the classic API takes where typeshed says ``str``)."""
    value = _checked(name, value)
    return value if value.isascii() else Header(value, UTF8, header_name=name)


def address(value: str) -> str:
    """One ``Name <local@domain>`` for a header: the name encoded when not ASCII, a
    non-ASCII domain in IDNA. ValueError for a line break, an empty or non-ASCII local
    part (no relay takes it without SMTPUTF8), or more than one address."""
    _checked("address", value)
    found = getaddresses([value])
    if len(found) != 1 or "@" not in found[0][1]:
        raise ValueError(f"not one address: {value!r}")
    name, addr = found[0]
    local, _, domain = addr.rpartition("@")
    if not local or not local.isascii():
        raise ValueError(f"the local part must be ASCII: {value!r}")
    if not domain.isascii():
        domain = domain.encode("idna").decode("ascii")
    return formataddr((name, f"{local}@{domain}"), charset="utf-8")


def _addresses(values: Iterable[str]) -> str:
    return ", ".join(address(value) for value in values)


def _leaf(content: bytes, mimetype: str) -> Message:
    maintype, _, subtype = (mimetype or "application/octet-stream").partition("/")
    if (maintype, subtype) == ("message", "rfc822"):
        # A forwarded mail is carried as a message, never base64 (RFC 2046 5.2.1).
        return MIMEMessage(email.message_from_bytes(content, policy=POLICY))
    part = MIMEBase(maintype, subtype or "octet-stream")
    part.set_payload(content)
    encoders.encode_base64(part)
    return part


def _attachment(filename: str, content: bytes | str, mimetype: str) -> Message:
    if isinstance(content, str):
        content = content.encode("utf-8")
        if mimetype.startswith("text/") and "charset" not in mimetype:
            mimetype = f"{mimetype}; charset=utf-8"
    base, _, params = mimetype.partition(";")
    part = _leaf(content, base.strip())
    for param in filter(None, (p.strip() for p in params.split(";"))):
        key, _, val = param.partition("=")
        part.set_param(key.strip(), val.strip().strip('"'))
    name = _checked("filename", filename or "attachment")
    part.add_header(
        "Content-Disposition",
        "attachment",
        filename=name if name.isascii() else ("utf-8", "", name),
    )
    return part


def build(
    *,
    subject: str,
    from_address: str,
    to: Sequence[str],
    body_text: str,
    body_html: str = "",
    cc: Sequence[str] = (),
    reply_to: Sequence[str] = (),
    headers: dict[str, str] | None = None,
    related: Iterable[tuple[bytes, str, str, str]] = (),
    attachments: Iterable[tuple[str, bytes | str, str]] = (),
) -> Message:
    """The MIME tree of one mail (see the module's docstring).

    ``related``: inline images of the HTML body, (content, maintype, subtype, Content-ID
    without brackets); ``attachments``: (file name, content, MIME type); ``headers``: more
    headers (Message-ID, In-Reply-To, Auto-Submitted...), each one line.
    """
    # typeshed wants a charset's name; the classic API takes a Charset (QP bodies).
    body: Message = MIMEText(body_text, "plain", UTF8)  # type: ignore[arg-type]
    if body_html:
        html: Message = MIMEText(body_html, "html", UTF8)  # type: ignore[arg-type]
        images = list(related)
        if images:
            html = MIMEMultipart("related", _subparts=[html])
            for content, maintype, subtype, cid in images:
                image = _leaf(content, f"{maintype}/{subtype}")
                image["Content-ID"] = f"<{_checked('Content-ID', cid)}>"
                image.add_header("Content-Disposition", "inline")
                html.attach(image)
        body = MIMEMultipart("alternative", _subparts=[body, html])
    files = [_attachment(*item) for item in attachments]
    root = MIMEMultipart("mixed", _subparts=[body, *files]) if files else body
    root.policy = POLICY
    root["Subject"] = _text("Subject", subject)
    root["From"] = address(from_address)
    root["To"] = _addresses(to)
    if cc:
        root["Cc"] = _addresses(cc)
    if reply_to:
        root["Reply-To"] = _addresses(reply_to)
    extra = {name: value for name, value in (headers or {}).items() if value}
    given = {name.lower() for name in extra}
    if "date" not in given:
        root["Date"] = formatdate(usegmt=True)
    if "message-id" not in given:
        root["Message-ID"] = make_msgid(domain=root["From"].rpartition("@")[2].rstrip(">"))
    for name, value in extra.items():
        if name.lower() in _OWN:
            raise ValueError(f"{name} is set from the mail, not as an extra header")
        root[name] = _text(name, str(value))
    return root
