"""Facebook Messenger Platform (Send API).

Shapes follow Meta's Messenger Platform reference:
- Webhooks: https://developers.facebook.com/docs/messenger-platform/webhooks and the
  event pages ``webhook-events/messages``, ``message-deliveries``, ``message-reads``:
  ``{"object": "page", "entry": [{"id", "time", "messaging": [{"sender": {"id": PSID},
  "recipient": {"id": PAGE_ID}, "timestamp", "message": {"mid", "text", "is_echo",
  "attachments": [{"type": "image"|"file", "payload": {"url"}}]}} | {..., "delivery":
  {"mids", "watermark"}} | {..., "read": {"watermark"}}]}]}``.
- Sending: https://developers.facebook.com/docs/messenger-platform/reference/send-api
  ``POST /<version>/<PAGE_ID>/messages`` with ``{"recipient": {"id"}, "messaging_type":
  "RESPONSE", "message": {"text"}}`` -> ``{"recipient_id", "message_id"}``; a file is a
  multipart request with ``recipient``, ``message`` = ``{"attachment": {"type":
  "image"|"file", "payload": {"is_reusable": false}}}`` and ``filedata``.
- The customer's name: the User Profile API, ``GET /<PSID>?fields=first_name,last_name``
  (https://developers.facebook.com/docs/messenger-platform/identity/user-profile).
Errors and webhook security: chat/adapters/meta.py.
"""

import json
import mimetypes
import urllib.parse
from datetime import UTC, datetime

from chat.adapters import meta
from chat.adapters.base import Download, Inbound, MediaRef, Receipt, SendError, http, multipart


def _from_ms(value) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


class MessengerAdapter:
    def __init__(self, channel):
        self.channel = channel

    # --- inbound ----------------------------------------------------------------------

    def verify(self, request) -> None:
        meta.verify_signature(request, self.channel.app_secret)

    def handshake(self, request) -> str | None:
        return meta.handshake(request, self.channel.webhook_secret)

    def split(self, payload) -> list[tuple[str, dict]]:
        events: list[tuple[str, dict]] = []
        if not isinstance(payload, dict) or payload.get("object") != "page":
            return events
        for entry in payload.get("entry") or ():
            for item in entry.get("messaging") or ():
                psid = (item.get("sender") or {}).get("id", "")
                if "message" in item:
                    if item["message"].get("is_echo"):
                        continue  # our own message, echoed back
                    events.append((f"message:{item['message'].get('mid')}", item))
                elif "delivery" in item:
                    events.append((f"delivery:{psid}:{item['delivery'].get('watermark')}", item))
                elif "read" in item:
                    events.append((f"read:{psid}:{item['read'].get('watermark')}", item))
        return events

    def parse(self, item: dict) -> Inbound | list[Receipt] | None:
        psid = str((item.get("sender") or {}).get("id", ""))
        if "delivery" in item:
            delivery = item["delivery"]
            return [
                Receipt(
                    state="delivered",
                    external_id=psid,
                    platform_message_ids=[str(mid) for mid in delivery.get("mids") or ()],
                    watermark=_from_ms(delivery["watermark"]) if "watermark" in delivery else None,
                )
            ]
        if "read" in item:
            return [
                Receipt(
                    state="read", external_id=psid, watermark=_from_ms(item["read"]["watermark"])
                )
            ]
        message = item.get("message") or {}
        inbound = Inbound(
            external_id=psid,
            platform_message_id=str(message.get("mid", "")),
            text=message.get("text", ""),
            sent_at=_from_ms(item.get("timestamp", 0)),
        )
        for attachment in message.get("attachments") or ():
            url = (attachment.get("payload") or {}).get("url")
            if attachment.get("type") in ("image", "file") and url:
                kind = "image" if attachment["type"] == "image" else "document"
                inbound.media.append(MediaRef(ref=url, kind=kind))
        return inbound

    def download(self, media: MediaRef) -> Download:
        # The URL came in a webhook whose signature was checked: Meta's CDN, no token needed.
        response = http("GET", media.ref)
        if response.status != 200:
            raise SendError(f"attachment download answered {response.status}")
        path = urllib.parse.urlsplit(media.ref).path
        filename = path.rsplit("/", 1)[-1] or media.kind
        content_type = (
            response.headers.get("Content-Type", "").split(";")[0]
            or mimetypes.guess_type(filename)[0]
            or "application/octet-stream"
        )
        return Download(response.body, filename, content_type)

    def profile_name(self, psid: str) -> str:
        """The customer's name, or "" when the profile cannot be read (never raises)."""
        url = meta.graph_url(self.channel, f"{psid}?fields=first_name,last_name")
        try:
            answer = meta.check(http("GET", url, headers=meta.auth_headers(self.channel)))
        except SendError:
            return ""
        return " ".join(p for p in (answer.get("first_name"), answer.get("last_name")) if p)

    # --- outbound ---------------------------------------------------------------------

    def _url(self) -> str:
        return meta.graph_url(self.channel, f"{self.channel.account_id}/messages")

    def send_text(self, external_id: str, text: str) -> str:
        payload = {
            "recipient": {"id": external_id},
            "messaging_type": "RESPONSE",
            "message": {"text": text},
        }
        answer = meta.check(
            http("POST", self._url(), json_body=payload, headers=meta.auth_headers(self.channel))
        )
        return str(answer.get("message_id", ""))

    def send_file(self, external_id: str, filename: str, content: bytes, content_type: str) -> str:
        kind = "image" if content_type.startswith("image/") else "file"
        fields = {
            "recipient": json.dumps({"id": external_id}),
            "messaging_type": "RESPONSE",
            "message": json.dumps(
                {"attachment": {"type": kind, "payload": {"is_reusable": False}}}
            ),
        }
        body, form_type = multipart(fields, {"filedata": (filename, content, content_type)})
        answer = meta.check(
            http(
                "POST",
                self._url(),
                data=body,
                content_type=form_type,
                headers=meta.auth_headers(self.channel),
            )
        )
        return str(answer.get("message_id", ""))

    def send_template(self, external_id: str, text: str) -> str:
        return self.send_text(external_id, text)
