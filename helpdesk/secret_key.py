"""Where SECRET_KEY comes from when none is set, and which keys the settings refuse."""

import os
import secrets
from pathlib import Path

from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

# Keys this repository once shipped as defaults (settings, docker-compose.yml): anyone can
# read them, so they sign nothing outside DEBUG even though they are long enough.
PUBLISHED_KEYS = frozenset(
    {
        "dev-only-insecure-key-change-me-in-production-0123456789",
        "insecure-compose-try-out-key-set-SECRET_KEY-for-real-use",
    }
)


def is_weak_secret_key(key: str) -> bool:
    """True for a published key or one Django's deploy check would warn about."""
    return (
        key in PUBLISHED_KEYS
        or len(key) < SECRET_KEY_MIN_LENGTH
        or len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS
        or key.startswith(SECRET_KEY_INSECURE_PREFIX)
    )


def refuse_weak_secret_key(key: str) -> None:
    """Stop start-up (outside DEBUG) when the key is published, short or repetitive."""
    if is_weak_secret_key(key):
        raise ImproperlyConfigured(
            "SECRET_KEY is a published default or too weak (it needs at least "
            f"{SECRET_KEY_MIN_LENGTH} characters, {SECRET_KEY_MIN_UNIQUE_CHARACTERS} different "
            "ones, and no 'django-insecure-' prefix). Set SECRET_KEY to a long random value, "
            'e.g. python -c "import secrets; print(secrets.token_urlsafe(64))".'
        )


def local_secret_key(path: Path) -> str:
    """The key generated once for this checkout, kept in `path` (created on first use).

    Several processes may start at once (web, worker, test workers): the file is written
    under another name and linked into place, so each of them reads the same whole key.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(64))
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won the race; its key is the one
        finally:
            temporary.unlink()
    return path.read_text().strip()
