"""Raw mail bytes to a ParsedMail: headers, a strict sender, text and HTML, attachments.

Mail is attacker input. Nothing here raises for bad mail: unknown charsets, broken
headers and absurd nesting end as replacement characters, ``defects`` and bounds.
"""

import html
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import _header_value_parser as _address_parser
from email import errors, message_from_bytes, policy
from email.header import decode_header
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.utils import getaddresses, parsedate_to_datetime
from typing import IO

import nh3
from django.conf import settings

from mailboxes import large_parts
from mailboxes.large_parts import Extracted, Run
from mailboxes.text import db_text_fields

MAX_PARTS = 500
MAX_CONTAINERS = 100
# From this size on, a message is read in chunks and its long base64 bodies are decoded to
# temporary files before the stdlib parser sees it (mailboxes.large_parts): the parser
# splits a body line by line, 4 ms for a mail with a 150 kB attachment against 1.4 ms
# for its skeleton. Smaller mail has no body worth a file.
LARGE_MESSAGE = 64 * 2**10
_CONTAINER = re.compile(rb"(?im)^content-type:[ \t]*(multipart|message)/")
# A header longer than this is cut before parsing: the structured parsers slow down badly
# on megabyte headers and no real Subject or From is that long.
MAX_HEADER_CHARS = 16_384
MAX_ADDRESSES = 100
MAX_FILENAME_CHARS = 1000
# HTML-only mail gets a plain-text version for search, routing and previews: read from at
# most this much markup, and at most this long.
MAX_HTML_FOR_TEXT = 2 * 2**20
MAX_TEXT_FROM_HTML = 100_000
# Letters and digits of any script (RFC 6532 internationalised addresses), not only ASCII.
_ADDR_SPEC = re.compile(
    r"^[\w.!#$%&'*+/=?^`{|}~-]+@[^\W_](?:[\w-]*[^\W_])?(\.[^\W_](?:[\w-]*[^\W_])?)*$"
)
# Defects of mailers that encode a display name against the letter of RFC 2047 (inside
# quotes, without spaces around): the address itself is not in doubt.
_HARMLESS_DEFECTS = (
    "encoded word inside quoted string",
    "whitespace after encoded-word",
    "whitespace before encoded word",
)
_LOOKS_LIKE_ADDRESS = re.compile(r"[^\s@<>()\"']+@[^\s@<>()\"']+")
_MSGID = re.compile(r"<[^<>\s]+>")
_FOLD = re.compile(r"\r?\n(?=[ \t])")
_MBOX_FROM = re.compile(rb"^From [^\r\n]*\r?\n")
_BOUNCE_LOCALPARTS = {"mailer-daemon", "postmaster"}


@dataclass
class ParsedAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""
    is_inline: bool = False
    # A big part decoded to a temporary file instead of ``content`` (large_parts).
    spool: IO[bytes] | None = None
    spool_size: int = 0

    @property
    def size(self) -> int:
        return self.spool_size if self.spool is not None else len(self.content)

    def read(self) -> bytes:
        """The whole content in memory (tests and small parts; stream ``spool`` otherwise)."""
        if self.spool is None:
            return self.content
        self.spool.seek(0)
        return self.spool.read()


@dataclass(frozen=True)
class DeliveryReport:
    """One recipient's block of a DSN (RFC 3464): who, what happened, the status code."""

    recipient: str
    action: str  # failed, delayed, delivered, relayed, expanded
    status: str  # 5.1.1, 4.4.7, ...

    @property
    def is_permanent_failure(self) -> bool:
        return self.action == "failed" or self.status.startswith("5.")

    @property
    def is_delay(self) -> bool:
        return not self.is_permanent_failure and (
            self.action == "delayed" or self.status.startswith("4.")
        )


@dataclass
class ParsedMail:
    message_id: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_address: str | None = None
    from_name: str = ""
    sender_problem: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    delivered_to: list[str] = field(default_factory=list)
    reply_to: str = ""
    date: datetime | None = None
    auto_submitted: str = ""
    precedence: str = ""
    x_autoreply: str = ""
    x_autorespond: str = ""
    x_auto_response_suppress: str = ""
    list_id: str = ""
    list_unsubscribe: str = ""
    # Every Authentication-Results header, topmost first (mailboxes.authentication reads them).
    authentication_results: list[str] = field(default_factory=list)
    return_path: str = ""
    text: str = ""
    html: str = ""
    attachments: list[ParsedAttachment] = field(default_factory=list)
    is_bounce: bool = False
    bounced_message_id: str = ""
    delivery_reports: list[DeliveryReport] = field(default_factory=list)
    received_count: int = 0
    defects: list[str] = field(default_factory=list)

    def close(self) -> None:
        """Remove the temporary files of streamed attachments (large_parts)."""
        for attachment in self.attachments:
            if attachment.spool is not None:
                attachment.spool.close()

    @property
    def thread_ids(self) -> list[str]:
        """In-Reply-To first, then References newest first: the order to try them in."""
        ids = [self.in_reply_to] if self.in_reply_to else []
        ids += [ref for ref in reversed(self.references) if ref not in ids]
        return ids[:50]


# --- text decoding -----------------------------------------------------------------


# Labels mail uses that Python does not know, or knows as a narrower set than mailers mean
# (the WHATWG encoding standard maps them the same way).
_CHARSET_ALIASES = {
    "us-ascii": "utf-8",  # mailers label 8-bit UTF-8 as ASCII; ASCII reads the same
    "ascii": "utf-8",
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "iso-8859-9": "cp1254",
    "iso-8859-11": "cp874",
    "windows-874": "cp874",
    "iso-8859-8-i": "iso-8859-8",
    "ks_c_5601-1987": "cp949",
    "ks_c_5601": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "x-sjis": "cp932",
    "shift_jis": "cp932",
    "unicode-1-1-utf-7": "utf-7",
}


def _codec(charset: str | None) -> str:
    """The Python codec for a declared charset (or its alias); UTF-8 when unknown or none."""
    label = (charset or "").strip().strip("\"'").lower()
    label = _CHARSET_ALIASES.get(label, label)
    if not label:
        return "utf-8"
    try:
        # "test".decode raises LookupError for bytes-to-bytes codecs (zlib, base64) too.
        b"test".decode(label)
    except (LookupError, ValueError):
        return "utf-8"
    return label


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decoded with the declared charset (or its alias, UTF-8 when unknown): never raises.

    Bytes invalid in that charset that are valid UTF-8 are read as UTF-8 (a mislabelled
    part); otherwise the invalid bytes become replacement characters where they are and
    the rest keeps the declared charset (never a switch of the whole text to a guess).
    """
    codec = _codec(charset)
    try:
        return data.decode(codec)
    except (UnicodeError, ValueError):
        pass
    try:
        return data.decode("utf-8")
    except UnicodeError:
        return data.decode(codec, errors="replace")


def _guess_bytes(data: bytes) -> str:
    """Undeclared 8-bit header bytes: UTF-8 when they are, else Windows-1252 (never raises)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _has_escapes(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _unescape(value: str) -> str:
    """Header text read from bytes keeps raw 8-bit bytes as surrogates: decode them."""
    if not _has_escapes(value):
        return value
    return _guess_bytes(value.encode("utf-8", "surrogateescape"))


def _decode_words(raw: str) -> str:
    """RFC 2047 words decoded the forgiving compat32 way, for headers policy.default rejects."""
    try:
        chunks = decode_header(raw)
    except Exception:
        return raw
    pieces = []
    for chunk, charset in chunks:
        if isinstance(chunk, bytes):
            # Unencoded runs come back as raw-unicode-escape bytes, without a charset.
            pieces.append(decode_bytes(chunk, charset) if charset else _unicode_escape(chunk))
        else:
            pieces.append(chunk)
    return "".join(pieces)


def _unicode_escape(chunk: bytes) -> str:
    try:
        return _unescape(chunk.decode("raw-unicode-escape"))
    except UnicodeError:
        return _guess_bytes(chunk)


def _one_line(value: str) -> str:
    return " ".join(value.replace("\r", " ").replace("\n", " ").split())


class _Headers:
    """Header access that never raises: policy.default first, compat32 decoding after."""

    def __init__(self, message: Message, defects: list[str]):
        self.message = message
        self.defects = defects
        self.raw: dict[str, list[str]] = {}
        for name, value in message.raw_items():
            # Unfolded: the structured parsers refuse CR/LF inside an address part.
            self.raw.setdefault(name.lower(), []).append(_FOLD.sub("", value))

    def count(self, name: str) -> int:
        return len(self.raw.get(name, ()))

    def raw_value(self, name: str) -> str:
        values = self.raw.get(name)
        return _unescape(values[0][:MAX_HEADER_CHARS]) if values else ""

    def text(self, name: str) -> str:
        values = self.raw.get(name)
        if not values:
            return ""
        raw = values[0]
        if len(raw) > MAX_HEADER_CHARS:
            self.defects.append(f"{name} header cut at {MAX_HEADER_CHARS} characters")
            return _one_line(_unescape(_decode_words(raw[:MAX_HEADER_CHARS])))
        try:
            value = str(policy.default.header_factory(name, raw))
        except Exception as exc:
            self.defects.append(f"{name}: {type(exc).__name__}")
            value = _decode_words(raw)
        return _one_line(_unescape(value))

    def addresses(self, name: str) -> list[str]:
        found: list[str] = []
        for raw in self.raw.get(name, ()):
            pairs = getaddresses([_unescape(raw[:MAX_HEADER_CHARS])])
            found.extend(addr.lower() for _name, addr in pairs if _ADDR_SPEC.match(addr))
        return list(dict.fromkeys(found))[:MAX_ADDRESSES]


def normalize_message_id(value: str) -> str:
    """``<id@host>`` from whatever the header holds; empty when nothing usable."""
    value = value.strip()
    if not value:
        return ""
    match = _MSGID.search(value)
    if match:
        return match.group(0)[:255]
    token = value.split()[0].strip("<>")
    return f"<{token}>"[:255] if token else ""


def _message_ids(value: str) -> list[str]:
    return [found[:255] for found in _MSGID.findall(value)][:100]


# --- the sender ----------------------------------------------------------------------


def strict_sender(headers: _Headers) -> tuple[str | None, str, str]:
    """(address, name, problem): the address only when both parsers agree on exactly one.

    CVE-2023-27043 and kin: ``alice@a.test)<mallory@evil.test>`` reads as different people
    to different parsers; a display name that is another address misleads readers. Any
    doubt makes the sender unknown rather than someone it might not be.
    """
    count = headers.count("from")
    if count != 1:
        return None, "", "no From header" if count == 0 else "several From headers"
    raw = _unescape(headers.raw["from"][0])
    if len(raw) > 1000:
        return None, "", "From header too long"
    try:
        # The parser headerregistry uses, without its Address() check that refuses a
        # display name whose encoded-words decode to CR/LF (the name is put on one line).
        mailboxes = _address_parser.get_address_list(raw)[0]
        found = mailboxes.all_mailboxes
        invalid = [
            defect
            for defect in mailboxes.all_defects
            if isinstance(defect, errors.InvalidHeaderDefect)
            and not any(harmless in str(defect) for harmless in _HARMLESS_DEFECTS)
        ]
    except Exception as exc:
        return None, "", f"unparsable From: {type(exc).__name__}"
    if len(found) != 1 or invalid:
        return None, "", "ambiguous From"
    address = found[0].addr_spec
    name = _one_line(_unescape(found[0].display_name or ""))
    legacy = [addr for _name, addr in getaddresses([raw]) if addr]
    if legacy != [address] or not _ADDR_SPEC.match(address):
        return None, "", "ambiguous From"
    for lookalike in _LOOKS_LIKE_ADDRESS.findall(name):
        if lookalike.lower() != address.lower():
            return None, "", "display name is another address"
    return address.lower(), name[:200], ""


# --- the body ------------------------------------------------------------------------


def _filename(part: Message) -> str:
    part = _params_of(part)
    name: object
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        try:
            name = part.get_param("name")
        except Exception:
            name = None
        if isinstance(name, tuple):  # an RFC 2231 value get_param did not collapse
            name = decode_bytes(str(name[2]).encode("latin-1", "replace"), name[0])
    name = _one_line(_unescape(_decode_words(str(name)))) if name else ""
    # Long enough to show in full what was cut; the stored name is shortened keeping its
    # extension (tickets.models.clean_filename).
    return name[:MAX_FILENAME_CHARS]


def _params_of(part: Message) -> Message:
    """The part, or a copy of its Content-Type and -Disposition with raw 8-bit bytes decoded.

    compat32 turns raw bytes in a header it is asked for into replacement characters before
    any parameter is read; mailers send raw UTF-8 file names all the same.
    """
    raw = [
        (name, value)
        for name, value in part.raw_items()
        if name.lower() in ("content-type", "content-disposition")
    ]
    if not any(_has_escapes(value) for _name, value in raw):
        return part
    copy = Message()
    for name, value in raw:
        copy[name] = _unescape(value)
    return copy


def _payload_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    raw = part.get_payload()
    return raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""


def _part_text(part: Message) -> str:
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_bytes(_payload_bytes(part), charset)


def _message_bytes(message: Message) -> bytes:
    try:
        return message.as_bytes(policy=policy.compat32)
    except Exception:
        try:
            return message.as_string(policy=policy.compat32).encode("utf-8", "surrogateescape")
        except Exception:
            return b""


def html_to_text(markup: str) -> str:
    """Readable text from HTML-only mail: block ends become line breaks, tags go.

    Bounded whatever the mail: read from the first MAX_HTML_FOR_TEXT characters of markup
    and cut at MAX_TEXT_FROM_HTML, so a huge HTML mail costs no more than a big one.
    """
    markup = markup[:MAX_HTML_FOR_TEXT]
    markup = re.sub(r"(?i)<br\s*/?>|</(p|div|li|tr|h[1-6]|blockquote)>", "\n", markup)
    text = nh3.clean(markup, tags=set(), clean_content_tags={"script", "style", "head", "title"})
    # Plain text from here on: the template escapes it again when it is shown.
    text = html.unescape(text).replace("\xa0", " ")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()[:MAX_TEXT_FROM_HTML]


class _Walker:
    def __init__(self, parsed: ParsedMail, extracted: dict[str, Run] | None = None):
        self.parsed = parsed
        self.extracted = extracted or {}
        self.parts = 0
        self.max_depth = getattr(settings, "MAIL_MAX_MIME_DEPTH", 20)
        self.texts: list[str] = []
        self.htmls: list[str] = []
        self.too_deep = False
        self.returned_message_id = ""

    def walk(self, part: Message, depth: int = 0, parent: str = "") -> None:
        if self.parts >= MAX_PARTS:
            if self.parts == MAX_PARTS:
                self.parsed.defects.append(f"more than {MAX_PARTS} MIME parts: rest skipped")
                self.parts += 1
            return
        self.parts += 1
        if depth > self.max_depth:
            if not self.too_deep:
                self.parsed.defects.append(f"MIME nesting deeper than {self.max_depth}: cut")
                self.too_deep = True
            return
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            self._forwarded(part, depth)
        elif ctype == "text/rfc822-headers":
            self._rfc822_headers(part)
        elif ctype == "message/delivery-status":
            self._delivery_status(part)
        elif ctype.startswith("multipart/") and not part.is_multipart():
            # No boundary (or none found): its body is all there is, read as text.
            self._leaf(part, "text/plain")
        elif part.is_multipart():
            if ctype == "multipart/report":
                report_type = str(part.get_param("report-type") or "").lower()
                if report_type == "delivery-status":
                    self.parsed.is_bounce = True
            payload = part.get_payload()
            for child in payload if isinstance(payload, list) else ():
                if isinstance(child, Message):
                    self.walk(child, depth + 1, ctype)
        else:
            self._leaf(part, ctype, related=parent == "multipart/related")

    def _leaf(self, part: Message, ctype: str, *, related: bool = False) -> None:
        try:
            disposition = part.get_content_disposition()
        except Exception:
            disposition = None
        filename = _filename(part)
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            (self.texts if ctype == "text/plain" else self.htmls).append(_part_text(part))
            return
        content_id = _one_line(str(part.get("Content-ID", "") or "")).strip("<> ")[:255]
        if not filename:
            extension = {"message/delivery-status": ".txt", "text/html": ".html"}.get(ctype, "")
            if not extension and "/" in ctype:
                extension = "." + ctype.split("/")[1][:20]
            filename = f"part-{self.parts}{extension}"
        payload = part.get_payload()
        run = None
        if self.extracted and isinstance(payload, str) and len(payload) < 100:
            run = self.extracted.pop(payload.strip(), None)
        self.parsed.attachments.append(
            ParsedAttachment(
                filename=filename,
                content_type=ctype[:150],
                content=b"" if run else _payload_bytes(part),
                content_id=content_id,
                # Shown in the HTML rather than listed: an inline part, or a cid: target.
                is_inline=disposition == "inline"
                or (bool(content_id) and (related or disposition is None)),
                spool=run.spool if run else None,
                spool_size=run.size if run else 0,
            )
        )

    def _forwarded(self, part: Message, depth: int) -> None:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        if not isinstance(inner, Message):
            self._leaf(part, "message/rfc822")
            return
        if not self.returned_message_id:
            # The returned mail of a bounce, if this turns out to be one (decided after the walk).
            self.returned_message_id = normalize_message_id(str(inner.get("Message-ID", "") or ""))
        subject = _one_line(_unescape(_decode_words(str(inner.get("Subject", "") or ""))))
        name = _filename(part) or (subject[:80] or "forwarded message")
        if not name.lower().endswith(".eml"):
            name += ".eml"
        name = re.sub(r"[\\/:*?\"<>|]", "_", name)
        self.parsed.attachments.append(
            ParsedAttachment(
                filename=name, content_type="message/rfc822", content=_message_bytes(inner)
            )
        )
        # Count the forwarded mail's parts against the same bounds.
        self.parts += sum(1 for _ in _bounded_iter(inner, MAX_PARTS - self.parts))

    def _rfc822_headers(self, part: Message) -> None:
        data = _payload_bytes(part)
        if not self.parsed.bounced_message_id:
            headers = BytesHeaderParser(policy=policy.compat32).parsebytes(data)
            self.parsed.bounced_message_id = normalize_message_id(
                str(headers.get("Message-ID", "") or "")
            )
        self.parsed.attachments.append(
            ParsedAttachment(
                filename="returned-headers.txt", content_type="text/plain", content=data
            )
        )

    def _delivery_status(self, part: Message) -> None:
        # compat32 reads the report as header blocks: the first is about the reporting
        # MTA, each further one about one recipient (Final-Recipient, Action, Status).
        payload = part.get_payload()
        blocks = [b for b in payload if isinstance(b, Message)] if isinstance(payload, list) else []
        lines: list[str] = []
        for block in blocks[:MAX_ADDRESSES]:
            # The address as we sent it (Original-Recipient) when the MTA kept it; an alias
            # may have been rewritten on the way (Final-Recipient).
            named = block.get("Original-Recipient") or block.get("Final-Recipient") or ""
            recipient = _one_line(str(named))
            recipient = recipient.partition(";")[2] or recipient
            recipient = recipient.strip().strip("<>").lower()
            action = _one_line(str(block.get("Action", "") or "")).strip().lower()
            status = _one_line(str(block.get("Status", "") or "")).strip().split(" ")[0]
            lines.extend(f"{name}: {_one_line(str(value))}" for name, value in block.items())
            lines.append("")
            if recipient and (action or status):
                report = DeliveryReport(recipient[:255], action[:20], status[:20])
                self.parsed.delivery_reports.append(report)
        self.parsed.attachments.append(
            ParsedAttachment(
                filename="delivery-status.txt",
                content_type="text/plain",
                content="\n".join(lines).encode("utf-8", "replace"),
            )
        )


def _bounded_iter(message: Message, limit: int):
    stack = [message]
    while stack and limit > 0:
        part = stack.pop()
        limit -= 1
        yield part
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list):
            stack.extend(child for child in payload if isinstance(child, Message))


# --- the whole message ---------------------------------------------------------------


def parse_message(data: bytes) -> ParsedMail:
    """Parse raw RFC 5322 bytes (an mbox ``From `` line is dropped); never raises for bad mail."""
    if len(data) >= LARGE_MESSAGE:
        return parse_message_file(io.BytesIO(data))
    return _parse(data)


def parse_message_file(source: IO[bytes]) -> ParsedMail:
    """parse_message from a seekable binary file, streamed: memory stays small at any size.

    Big base64 attachments come back as temporary files (``ParsedAttachment.spool``).
    """
    extracted = large_parts.extract(source)
    try:
        return _parse(extracted.skeleton, extracted)
    except BaseException:
        extracted.close()
        raise


def _parse(data: bytes, extracted: Extracted | None = None) -> ParsedMail:
    data = _MBOX_FROM.sub(b"", data, count=1) if data.startswith(b"From ") else data
    parsed = ParsedMail()
    message = _parse_structure(data, parsed.defects)
    runs = _settle_runs(message, extracted) if extracted is not None else {}
    if extracted is not None:
        parsed.defects.extend(extracted.defects)
    headers = _Headers(message, parsed.defects)
    parsed.message_id = normalize_message_id(headers.raw_value("message-id"))
    parsed.in_reply_to = (_message_ids(headers.raw_value("in-reply-to")) or [""])[-1]
    parsed.references = _message_ids(" ".join(headers.raw.get("references", ())[:1]))
    parsed.subject = headers.text("subject")[:1000]
    parsed.from_address, parsed.from_name, parsed.sender_problem = strict_sender(headers)
    parsed.to = headers.addresses("to")
    parsed.cc = headers.addresses("cc")
    parsed.delivered_to = headers.addresses("delivered-to") + headers.addresses("x-original-to")
    parsed.reply_to = (headers.addresses("reply-to") or [""])[0]
    parsed.return_path = headers.raw_value("return-path").strip()
    parsed.date = _date(headers.raw_value("date"))
    parsed.auto_submitted = headers.raw_value("auto-submitted").strip().lower()
    parsed.precedence = headers.raw_value("precedence").strip().lower()
    parsed.x_autoreply = headers.raw_value("x-autoreply").strip().lower()
    parsed.x_autorespond = headers.raw_value("x-autorespond").strip().lower()
    parsed.x_auto_response_suppress = headers.raw_value("x-auto-response-suppress").lower()
    parsed.list_id = headers.raw_value("list-id").strip()
    parsed.list_unsubscribe = headers.raw_value("list-unsubscribe").strip()
    parsed.received_count = headers.count("received")
    parsed.authentication_results = [
        value[:MAX_HEADER_CHARS] for value in headers.raw.get("authentication-results", ())[:20]
    ]

    walker = _Walker(parsed, runs)
    walker.walk(message)
    for run in runs.values():
        run.spool.close()  # cut out of a part the walk skipped (beyond the bounds)
    parsed.text = "\n\n".join(t for t in walker.texts if t.strip()).replace("\r\n", "\n")
    parsed.html = walker.htmls[0] if walker.htmls else ""
    if not parsed.text and parsed.html:
        parsed.text = html_to_text(parsed.html)

    local_part = (parsed.from_address or headers.raw_value("from")).lower().split("@")[0]
    if any(name in local_part for name in _BOUNCE_LOCALPARTS):
        parsed.is_bounce = True
    if parsed.is_bounce and not parsed.bounced_message_id:
        parsed.bounced_message_id = walker.returned_message_id
    parsed.defects.extend(type(d).__name__ for d in message.defects[:20])
    # Everything below is copied into text columns: nothing a database refuses leaves here.
    db_text_fields(parsed)
    for attachment in parsed.attachments:
        db_text_fields(attachment)
    return parsed


def _parse_structure(data: bytes, defects: list[str]) -> Message:
    """The MIME tree, or only the headers when the nesting is absurd.

    The structure is read with compat32: the feed parser asks every part for its
    Content-Type again and again, and policy.default parses each of those headers in full
    (4x slower on ordinary mail, 12x on mail with many parts). The headers that decide
    anything (From, Subject) still go through policy.default's parsers in ``_Headers``.

    The stdlib parser recurses once per nesting level and slows down with depth; a mail
    with hundreds of containers is a bomb, not correspondence. Its body is kept whole as
    one attachment and the raw message stays in storage.
    """
    containers = len(_CONTAINER.findall(data))
    if containers <= MAX_CONTAINERS:
        try:
            return message_from_bytes(data, policy=policy.compat32)
        except RecursionError:
            pass
    defects.append(f"{containers} nested MIME containers: body kept unparsed")
    return BytesParser(policy=policy.compat32).parsebytes(data, headersonly=True)


def _settle_runs(message: Message, extracted: Extracted) -> dict[str, Run]:
    """The cut-out runs that really are base64 attachment bodies; the rest is put back.

    Kept: a whole base64 body of a leaf that is not text, outside any forwarded message
    (a forwarded mail is kept as its bytes, so it must be whole). Anything else that
    holds a marker gets its original lines back.
    """
    if not extracted.runs:
        return {}
    token = next(iter(extracted.runs)).split("-")[0]
    kept: dict[str, Run] = {}
    stack: list[tuple[Message, bool]] = [(message, False)]
    while stack:
        part, forwarded = stack.pop()
        payload = part.get_payload()
        if isinstance(payload, list):
            inside = forwarded or part.get_content_type() == "message/rfc822"
            stack.extend((child, inside) for child in payload if isinstance(child, Message))
        for name in ("preamble", "epilogue"):
            value = getattr(part, name, None)
            if isinstance(value, str) and token in value:
                setattr(part, name, _put_back(value, extracted))
        if not isinstance(payload, str) or token not in payload:
            continue
        key = payload.strip()
        encoding = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
        if (
            key in extracted.runs
            and not forwarded
            and encoding == "base64"
            and part.get_content_maintype() not in ("text", "message", "multipart")
        ):
            kept[key] = extracted.runs[key]
        else:
            part.set_payload(_put_back(payload, extracted))
    for key, run in extracted.runs.items():
        if key not in kept:
            run.spool.close()
    return kept


def _put_back(text: str, extracted: Extracted) -> str:
    for key in extracted.runs:
        if key in text:
            original = extracted.original(key)
            text = text.replace(key + "\r\n", original)
            # The last line before a boundary: the parser gives its line break to the boundary.
            text = text.replace(key, original.rstrip("\r\n"))
    return text


def _date(raw: str) -> datetime | None:
    if not raw:
        return None
    try:
        value = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return value if value.tzinfo else None
