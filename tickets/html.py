"""Showing mail safely: HTML sanitized with nh3 every time from the kept original, and
quoted history split off so the view can fold it (storage always keeps everything)."""

import re
from urllib.parse import unquote

import nh3
from django.utils.safestring import SafeString, mark_safe

# Without images: remote ones are tracking pixels until an agent asks for them.
_TAGS = nh3.ALLOWED_TAGS - {"img"}
_SCHEMES = {"http", "https", "mailto"}
_LINK_REL = "noopener noreferrer nofollow"
_REMOTE_IMAGE = re.compile(r"""<img\b[^>]*\bsrc\s*=\s*["']?\s*(https?:)?//""", re.I)


def sanitize_html(
    html: str, *, allow_remote_images: bool = False, inline_images: dict[str, str] | None = None
) -> SafeString:
    """Mail HTML without script, handlers or dangerous links.

    Images stay out unless they are inline parts we serve ourselves (``inline_images`` maps
    a Content-ID, without brackets, to our URL) or the agent asked for remote images.
    """
    if not (allow_remote_images or inline_images):
        cleaned = nh3.clean(html, tags=_TAGS, url_schemes=_SCHEMES, link_rel=_LINK_REL)
        return mark_safe(cleaned)  # noqa: S308 - nh3 output is safe by construction
    images = {key.strip("<>").lower(): url for key, url in (inline_images or {}).items()}

    def image_source(element: str, attribute: str, value: str) -> str | None:
        if element != "img" or attribute != "src":
            return value
        if value.lower().startswith("cid:"):
            return images.get(unquote(value[4:]).strip("<>").lower())
        if allow_remote_images and value.lower().startswith(("http://", "https://")):
            return value
        return None

    cleaned = nh3.clean(
        html,
        tags=nh3.ALLOWED_TAGS,
        url_schemes=_SCHEMES | {"cid"},
        link_rel=_LINK_REL,
        attribute_filter=image_source,
    )
    return mark_safe(cleaned)  # noqa: S308 - nh3 output is safe by construction


def has_remote_images(html: str) -> bool:
    """Whether a "show images" button would change anything."""
    return bool(_REMOTE_IMAGE.search(html or ""))


# --- quoted history ----------------------------------------------------------------------

_ATTRIBUTION = [
    re.compile(pattern, re.I)
    for pattern in (
        r"^on\b.{3,300}\bwrote\s?:$",  # On Mon, 1 Jan 2026, Ana <ana@x> wrote:
        r"^em\b.{3,300}\bescreveu\s?:$",  # Em seg., 1 de jan. de 2026, Ana escreveu:
        r"^w dniu\b.{3,300}\b(pisze|napisał\(a\)|napisała?)\s?:$",  # W dniu ... napisał(a):
        r"^.{3,300}\bnapisał(\(a\)|a)?\s?:$",  # Jan Kowalski <jan@x.pl> napisał(a):
        r"^le\b.{3,300}\ba écrit\s?:$",
        r"^am\b.{3,300}\bschrieb\b.{0,100}:$",
        r"^el\b.{3,300}\bescribió\s?:$",
    )
]
_ORIGINAL = re.compile(
    r"^-{2,}\s*(original message|mensagem original|oryginalna wiadomość|"
    r"wiadomość oryginalna|ursprüngliche nachricht|message d'origine)\s*-{2,}$",
    re.I,
)
_OUTLOOK_FROM = re.compile(r"^\*?(from|de|od|von)\s?:\*?\s*\S", re.I)
_OUTLOOK_SENT = re.compile(
    r"^\*?(sent|date|enviad[oa]|data|wysłano|wysłane|gesendet|envoyé)\s?:\*?\s*\S", re.I
)
_RULE = re.compile(r"^_{10,}$")


def _starts_history(lines: list[str], index: int) -> bool:
    line = lines[index].strip()
    if not line:
        return False
    if _ORIGINAL.match(line):
        return True
    following = lines[index + 1].strip() if index + 1 < len(lines) else ""
    for pattern in _ATTRIBUTION:
        if pattern.match(line) or (following and pattern.match(f"{line} {following}")):
            return True
    if _OUTLOOK_FROM.match(line):
        return any(_OUTLOOK_SENT.match(later.strip()) for later in lines[index + 1 : index + 5])
    return False


def split_quoted(text: str) -> tuple[str, str]:
    """(what is new, the quoted history): for folding in the view only.

    History starts at a reply attribution (English, Portuguese, Polish and a few more),
    an "Original Message" rule, an Outlook From/Sent block, or a trailing run of "> "
    lines. When nothing new would remain, everything counts as new.
    """
    lines = text.replace("\r\n", "\n").split("\n")
    start = next((i for i in range(len(lines)) if _starts_history(lines, i)), None)
    if start is not None and start and _RULE.match(lines[start - 1].strip()):
        start -= 1
    if start is None:
        start = _trailing_quote_start(lines)
    if start is None:
        return text, ""
    new, quoted = "\n".join(lines[:start]).rstrip(), "\n".join(lines[start:]).strip("\n")
    return (new, quoted) if new.strip() else (text, "")


def _trailing_quote_start(lines: list[str]) -> int | None:
    end = len(lines)
    while end and not lines[end - 1].strip():
        end -= 1
    start = end
    while start and (lines[start - 1].lstrip().startswith(">") or not lines[start - 1].strip()):
        start -= 1
    while start < end and not lines[start].strip():
        start += 1
    return start if start < end else None
