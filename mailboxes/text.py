"""Text copied from mail into the database, cleaned of what the database refuses.

PostgreSQL refuses a NUL in any text value, and no database driver can encode a lone
surrogate (what undecodable header bytes become) as UTF-8. Either one in a single
header used to fail the INSERT of a whole chunk of mail, and every fetch retried it.
Raw bytes (the stored .eml) keep everything; only text fields go through here.
"""

import re
from dataclasses import fields, is_dataclass
from typing import Any

_REFUSED = re.compile("[\x00\ud800-\udfff]")


def db_text(value: str) -> str:
    """``value`` without NUL characters and with lone surrogates replaced by U+FFFD."""
    if not _REFUSED.search(value):
        return value
    return _REFUSED.sub(lambda match: "" if match.group(0) == "\x00" else "\ufffd", value)


def db_text_fields(obj: Any) -> None:
    """db_text on every string (and list of strings) field of a dataclass, in place."""
    if not is_dataclass(obj):
        return
    for item in fields(obj):
        value = getattr(obj, item.name)
        if isinstance(value, str):
            setattr(obj, item.name, db_text(value))
        elif isinstance(value, list) and value and isinstance(value[0], str):
            setattr(obj, item.name, [db_text(entry) for entry in value])
