"""Secrets handed out once and kept only as digests: API tokens, PBX links, chat widgets.

The plain token is shown to its owner once; the database keeps its SHA-256 digest, which
is what a request's token is looked up by (an indexed equality, so no timing oracle on a
comparison in Python). A short prefix names the kind of token in logs and support mail.
"""

import hashlib
import secrets


def new_token(prefix: str) -> str:
    """A fresh random token, e.g. ``hd_3q...`` (256 bits of randomness after the prefix)."""
    return f"{prefix}_{secrets.token_urlsafe(32)}"


def token_digest(token: str) -> str:
    """What the database stores and looks a presented token up by."""
    return hashlib.sha256(token.encode()).hexdigest()
