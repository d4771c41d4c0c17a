"""What WhatsApp's Cloud API and Messenger share: Meta's webhooks and Graph API errors.

- Webhook verification and signatures follow
  https://developers.facebook.com/docs/graph-api/webhooks/getting-started : the
  subscription GET carries ``hub.mode=subscribe``, ``hub.verify_token`` and
  ``hub.challenge`` (answered with the challenge, 200, when the token matches); every
  event POST carries ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body keyed
  with the app secret>``.
- Errors follow https://developers.facebook.com/docs/graph-api/guides/error-handling and
  https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes :
  ``{"error": {"message", "type", "code", "error_subcode", "error_data", "fbtrace_id"}}``.
"""

import hashlib
import hmac

from chat.adapters.base import (
    Response,
    SendError,
    VerificationError,
    WindowClosedError,
    constant_time_equal,
    retry_after_header,
)

DEFAULT_BASE_URL = "https://graph.facebook.com"
SIGNATURE_HEADER = "HTTP_X_HUB_SIGNATURE_256"

# Throttling: 4 (application request limit), 613 (calls exceeded the rate limit),
# 80007 (WhatsApp Business Account rate limit), 130429 (Cloud API throughput reached),
# 131056 (too many messages to one recipient).
RATE_LIMITS = {4, 613, 80007, 130429, 131056}
# Passing trouble on Meta's side: 1 (unknown), 2 (service unavailable), 131000 (something
# went wrong), 131016 (service overloaded), 1200 (Messenger: temporary send failure).
TRANSIENT = {1, 2, 131000, 131016, 1200}
# WhatsApp 131047: more than 24 hours since the customer's last message (re-engagement).
WINDOW_CLOSED = 131047
# Messenger 10/2018278: outside the standard messaging window.
MESSENGER_WINDOW = (10, 2018278)


def verify_signature(request, app_secret: str) -> None:
    given = request.META.get(SIGNATURE_HEADER, "")
    if not app_secret or not given.startswith("sha256="):
        raise VerificationError("missing X-Hub-Signature-256")
    expected = hmac.new(app_secret.encode(), request.body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(given.removeprefix("sha256=").encode(), expected.encode()):
        raise VerificationError("wrong X-Hub-Signature-256")


def handshake(request, verify_token: str) -> str | None:
    """The challenge to echo, None when the GET is not a valid subscription request."""
    if request.GET.get("hub.mode") != "subscribe":
        return None
    if not constant_time_equal(request.GET.get("hub.verify_token", ""), verify_token):
        return None
    return request.GET.get("hub.challenge", "")


def auth_headers(channel) -> dict[str, str]:
    return {"Authorization": f"Bearer {channel.access_token}"}


def graph_url(channel, path: str) -> str:
    base = (channel.api_base_url or DEFAULT_BASE_URL).rstrip("/")
    version = channel.api_version.strip("/")
    return f"{base}/{version}/{path}" if version else f"{base}/{path}"


def check(response: Response) -> dict:
    """The answer's JSON when the call succeeded; a SendError saying whether to retry."""
    answer = response.json()
    if 200 <= response.status < 300 and isinstance(answer, dict) and "error" not in answer:
        return answer
    error = (answer or {}).get("error") if isinstance(answer, dict) else None
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    subcode = error.get("error_subcode")
    details = (error.get("error_data") or {}).get("details", "")
    text = f"Meta {code or response.status}: {error.get('message', '')} {details}".strip()
    if code == WINDOW_CLOSED or (code, subcode) == MESSENGER_WINDOW:
        raise WindowClosedError(text)
    if response.status == 429 or code in RATE_LIMITS:
        raise SendError(text, retry_after=retry_after_header(response))
    if response.status >= 500 or code in TRANSIENT or error.get("is_transient"):
        raise SendError(text)
    raise SendError(text, permanent=True)
