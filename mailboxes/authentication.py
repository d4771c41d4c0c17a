"""What the receiving server said of a mail's DMARC, read from ``Authentication-Results``.

Anyone can put an Authentication-Results header in a mail they send, so only a header
whose authserv-id is the one the mailbox trusts counts (RFC 8601 section 5), and only the
topmost such header: the receiving server prepends its own above everything the mail
arrived with, so a forged copy claiming the same authserv-id sits below it. A header that
does not parse is ignored as a whole; nothing here raises for bad mail.

The grammar (RFC 8601 section 2.2), in short::

    authserv-id [version] ( "; none" / 1*( ";" method[/version] "=" result *property ) )

with CFWS (comments in parentheses) allowed between the parts and values that may be
quoted strings.
"""

import re
from dataclasses import dataclass

# RFC 8601 2.2: method and result are Keywords (RFC 5321): letters, digits, hyphens.
_KEYWORD = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_METHODSPEC = re.compile(rf"^({_KEYWORD})(?:\s*/\s*\d+)?\s*=\s*({_KEYWORD})(?:\s|$)")
# RFC 2045 token (the authserv-id as a value), e.g. "mx.example.com".
_TOKEN = re.compile(r"^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$")
_VERSION = re.compile(r"^\d+$")
MAX_HEADER_CHARS = 4000


@dataclass(frozen=True)
class AuthenticationResults:
    authserv_id: str
    results: dict[str, str]  # method → result, lowercased; the first of each method


def parse_authentication_results(value: str) -> AuthenticationResults | None:
    """The header's authserv-id and method results, or None when it does not parse."""
    if len(value) > MAX_HEADER_CHARS:
        return None
    text = _without_comments(value)
    if text is None:
        return None
    parts = _split_semicolons(text)
    if parts is None:
        return None
    head = parts[0].split()
    if not head or len(head) > 2 or (len(head) == 2 and not _VERSION.match(head[1])):
        return None
    authserv_id = _unquote(head[0])
    if authserv_id is None or not authserv_id:
        return None
    results: dict[str, str] = {}
    rest = [part.strip() for part in parts[1:]]
    if not rest:
        return None
    if rest == ["none"]:
        return AuthenticationResults(authserv_id.lower(), results)
    for part in rest:
        match = _METHODSPEC.match(part)
        if match is None:
            return None
        results.setdefault(match.group(1).lower(), match.group(2).lower())
    return AuthenticationResults(authserv_id.lower(), results)


def dmarc_result(headers: list[str], trusted_authserv_id: str) -> str | None:
    """ "pass", "fail", "none"... from the topmost header of ``trusted_authserv_id``.

    None when the mailbox trusts no server (blank), when no header of that server is
    there or it does not parse, or when that server did not evaluate DMARC.
    """
    trusted = trusted_authserv_id.strip().lower()
    if not trusted:
        return None
    for value in headers:
        parsed = parse_authentication_results(value)
        # An unparsable header cannot be attributed to anyone: skip it. The first one that
        # names our server is the one it added; anything below is what the mail came with.
        if parsed is not None and parsed.authserv_id == trusted:
            return parsed.results.get("dmarc")
    return None


def _without_comments(value: str) -> str | None:
    """The value with its (nested) comments replaced by a space; None if they are unbalanced."""
    out: list[str] = []
    depth = 0
    quoted = escaped = False
    for char in value:
        if escaped:
            escaped = False
            if depth == 0:
                out.append(char)
            continue
        if char == "\\" and (quoted or depth):
            escaped = True
            if depth == 0:
                out.append(char)
            continue
        if quoted:
            quoted = char != '"'
            out.append(char)
        elif char == "(":
            depth += 1
        elif char == ")":
            if depth == 0:
                return None
            depth -= 1
            if depth == 0:
                out.append(" ")
        elif depth == 0:
            quoted = char == '"'
            out.append(char)
    if depth or quoted or escaped:
        return None
    return "".join(out)


def _split_semicolons(text: str) -> list[str] | None:
    """Split on the semicolons outside quoted strings."""
    parts: list[str] = []
    current: list[str] = []
    quoted = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\" and quoted:
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    if quoted:
        return None
    parts.append("".join(current))
    return parts


def _unquote(value: str) -> str | None:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        inner = re.sub(r"\\(.)", r"\1", value[1:-1])
        return inner if '"' not in value[1:-1].replace('\\"', "") else None
    return value if _TOKEN.match(value) else None
