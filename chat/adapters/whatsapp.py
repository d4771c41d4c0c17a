"""WhatsApp Business Cloud API.

Shapes follow Meta's Cloud API reference:
- Webhooks: https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks/payload-examples
  ``{"object": "whatsapp_business_account", "entry": [{"id", "changes": [{"field":
  "messages", "value": {"metadata": {"phone_number_id"}, "contacts": [{"profile":
  {"name"}, "wa_id"}], "messages": [{"from", "id", "timestamp", "type", "text": {"body"},
  "image"|"document": {"id", "mime_type", "caption", "filename"}}], "statuses": [{"id",
  "status": "sent"|"delivered"|"read"|"failed", "timestamp", "recipient_id",
  "errors"}]}}]}]}``.
- Media: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/media
  ``GET /<version>/<media id>`` -> ``{"url", "mime_type", "file_size", "id"}``, then a GET
  of ``url`` with the same bearer token; upload: ``POST /<phone number id>/media``,
  multipart ``file``, ``type``, ``messaging_product=whatsapp`` -> ``{"id"}``.
- Sending: https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
  ``POST /<version>/<phone number id>/messages`` with ``{"messaging_product":
  "whatsapp", "recipient_type": "individual", "to", "type": "text", "text": {"body"}}``
  (or ``image``/``document`` by uploaded media id, or ``template`` with ``name``,
  ``language.code`` and body ``components``) -> ``{"messages": [{"id": "wamid..."}]}``.
- Outside the 24-hour customer service window only a template may be sent
  (https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates);
  a free-form message then fails with error 131047.
Errors and webhook security: chat/adapters/meta.py.
"""

from datetime import UTC, datetime

from chat.adapters import meta
from chat.adapters.base import Download, Inbound, MediaRef, Receipt, SendError, http, multipart

STATUSES = {"sent", "delivered", "read", "failed"}


class WhatsAppAdapter:
    def __init__(self, channel):
        self.channel = channel

    # --- inbound ----------------------------------------------------------------------

    def verify(self, request) -> None:
        meta.verify_signature(request, self.channel.app_secret)

    def handshake(self, request) -> str | None:
        return meta.handshake(request, self.channel.webhook_secret)

    def split(self, payload) -> list[tuple[str, dict]]:
        events: list[tuple[str, dict]] = []
        if not isinstance(payload, dict) or payload.get("object") != "whatsapp_business_account":
            return events
        for entry in payload.get("entry") or ():
            for change in entry.get("changes") or ():
                value = change.get("value") or {}
                if change.get("field") != "messages":
                    continue
                names = {
                    item.get("wa_id"): (item.get("profile") or {}).get("name", "")
                    for item in value.get("contacts") or ()
                }
                for message in value.get("messages") or ():
                    fragment = {"message": message, "name": names.get(message.get("from"), "")}
                    events.append((f"message:{message.get('id')}", fragment))
                for status in value.get("statuses") or ():
                    key = f"status:{status.get('id')}:{status.get('status')}"
                    events.append((key, {"status": status}))
        return events

    def parse(self, fragment: dict) -> Inbound | list[Receipt] | None:
        if "status" in fragment:
            status = fragment["status"]
            if status.get("status") not in STATUSES:
                return None
            errors = status.get("errors") or []
            error = "; ".join(
                f"{item.get('code')}: {item.get('title') or item.get('message', '')}"
                for item in errors
            )
            return [
                Receipt(
                    state=status["status"],
                    external_id=str(status.get("recipient_id", "")),
                    platform_message_ids=[str(status.get("id"))],
                    error=error,
                )
            ]
        message = fragment["message"]
        kind = message.get("type")
        inbound = Inbound(
            external_id=str(message.get("from", "")),
            platform_message_id=str(message.get("id", "")),
            name=fragment.get("name", ""),
            phone=str(message.get("from", "")),  # wa_id: the customer's number, digits only
            sent_at=datetime.fromtimestamp(int(message.get("timestamp", 0)), tz=UTC),
        )
        if kind == "text":
            inbound.text = (message.get("text") or {}).get("body", "")
        elif kind in ("image", "document"):
            media = message.get(kind) or {}
            inbound.text = media.get("caption", "")
            inbound.media.append(
                MediaRef(
                    ref=str(media.get("id", "")),
                    kind=kind,
                    filename=media.get("filename", ""),
                    content_type=media.get("mime_type", ""),
                )
            )
        else:
            # Audio, stickers, locations...: kept as a note of what came, not lost silently.
            inbound.text = f"[{kind}]"
        return inbound

    def download(self, media: MediaRef) -> Download:
        headers = meta.auth_headers(self.channel)
        found = meta.check(http("GET", meta.graph_url(self.channel, media.ref), headers=headers))
        url = found.get("url", "")
        if not url:
            raise SendError("the media endpoint returned no url", permanent=True)
        response = http("GET", url, headers=headers)
        if response.status != 200:
            raise SendError(f"media download answered {response.status}")
        content_type = media.content_type or found.get("mime_type", "application/octet-stream")
        extension = content_type.rsplit("/", 1)[-1].split(";")[0]
        filename = media.filename or f"{media.kind}-{media.ref}.{extension}"
        return Download(response.body, filename, content_type)

    # --- outbound ---------------------------------------------------------------------

    def _send(self, external_id: str, body: dict) -> str:
        payload = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": external_id,
            **body,
        }
        url = meta.graph_url(self.channel, f"{self.channel.account_id}/messages")
        answer = meta.check(
            http("POST", url, json_body=payload, headers=meta.auth_headers(self.channel))
        )
        messages = answer.get("messages") or [{}]
        return str(messages[0].get("id", ""))

    def send_text(self, external_id: str, text: str) -> str:
        return self._send(
            external_id, {"type": "text", "text": {"preview_url": False, "body": text}}
        )

    def send_file(self, external_id: str, filename: str, content: bytes, content_type: str) -> str:
        body, form_type = multipart(
            {"messaging_product": "whatsapp", "type": content_type},
            {"file": (filename, content, content_type)},
        )
        url = meta.graph_url(self.channel, f"{self.channel.account_id}/media")
        uploaded = meta.check(
            http(
                "POST",
                url,
                data=body,
                content_type=form_type,
                headers=meta.auth_headers(self.channel),
            )
        )
        media_id = str(uploaded.get("id", ""))
        if content_type in ("image/jpeg", "image/png"):
            return self._send(external_id, {"type": "image", "image": {"id": media_id}})
        return self._send(
            external_id, {"type": "document", "document": {"id": media_id, "filename": filename}}
        )

    def send_template(self, external_id: str, text: str) -> str:
        template = {
            "name": self.channel.template_name,
            "language": {"code": self.channel.template_language or "en"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": text}]}],
        }
        return self._send(external_id, {"type": "template", "template": template})
