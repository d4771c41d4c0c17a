"""The signature of a delivery: HMAC-SHA256 over ``<timestamp>.<body>``, Stripe's style.

Header: ``X-Helpdesk-Signature: t=1767225600,v1=<hex>`` (a second ``v1=`` while a rotated
secret is in its grace period). A receiver recomputes the HMAC with its secret over the
timestamp, a dot and the raw body bytes, compares in constant time, and refuses a
timestamp older than a few minutes (a replayed request). ``verify`` is that receiver.
"""

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Helpdesk-Signature"
EVENT_HEADER = "X-Helpdesk-Event"
DELIVERY_HEADER = "X-Helpdesk-Delivery"
TOLERANCE_SECONDS = 300


def compute(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secrets: list[str], body: bytes, *, timestamp: int | None = None) -> str:
    """The header's value for ``body`` signed with each of ``secrets`` at ``timestamp``."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return ",".join([f"t={timestamp}", *(f"v1={compute(s, timestamp, body)}" for s in secrets)])


def verify(
    secret: str,
    header: str,
    body: bytes,
    *,
    tolerance: int = TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and its time is recent enough."""
    timestamp, signatures = None, []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    expected = compute(secret, timestamp, body)
    return any(hmac.compare_digest(expected, signature) for signature in signatures)
