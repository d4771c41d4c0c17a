"""Telegram Bot API.

Shapes follow https://core.telegram.org/bots/api:
- #setwebhook: every webhook request carries the ``secret_token`` given to setWebhook in
  the ``X-Telegram-Bot-Api-Secret-Token`` header; Telegram signs nothing else.
- #update: ``{"update_id": N, "message": Message}``; update_id identifies the update
  (Telegram redelivers the same update until it gets a 2xx).
- #message, #photosize, #document, #contact: ``chat.id``, ``from``, ``text`` or
  ``caption``, ``photo`` (sizes, largest last), ``document`` (file_id, file_name,
  mime_type), ``contact`` (phone_number, user_id).
- #making-requests: every answer is ``{"ok": true, "result": ...}`` or ``{"ok": false,
  "error_code": N, "description": "...", "parameters": {"retry_after": S}}`` (429: flood
  control, #responseparameters).
- #getfile: ``getFile?file_id=`` -> File.file_path, downloaded from
  ``/file/bot<token>/<file_path>``.
- #sendmessage, #sendphoto, #senddocument: ``chat_id`` + ``text``, or a multipart upload
  of ``photo``/``document``; the result is the sent Message (its ``message_id``).
The Bot API gives no delivery or read receipts: a sent message stays "sent".
"""

import mimetypes
from datetime import UTC, datetime

from chat.adapters.base import (
    Download,
    Inbound,
    MediaRef,
    Receipt,
    Response,
    SendError,
    VerificationError,
    constant_time_equal,
    http,
    multipart,
)

DEFAULT_BASE_URL = "https://api.telegram.org"
SECRET_HEADER = "HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN"  # noqa: S105 (a header name)
PHOTO_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")


class TelegramAdapter:
    def __init__(self, channel):
        self.channel = channel
        self.base = (channel.api_base_url or DEFAULT_BASE_URL).rstrip("/")

    # --- inbound ----------------------------------------------------------------------

    def verify(self, request) -> None:
        given = request.META.get(SECRET_HEADER, "")
        if not constant_time_equal(given, self.channel.webhook_secret):
            raise VerificationError("wrong or missing X-Telegram-Bot-Api-Secret-Token")

    def handshake(self, request) -> str | None:
        return None  # Telegram has no verification GET

    def split(self, payload) -> list[tuple[str, dict]]:
        update_id = payload.get("update_id") if isinstance(payload, dict) else None
        if not isinstance(update_id, int):
            return []
        return [(f"update:{update_id}", payload)]

    def parse(self, update: dict) -> Inbound | list[Receipt] | None:
        message = update.get("message")
        if not isinstance(message, dict) or "chat" not in message:
            return None  # edits, callbacks, channel posts: not a customer's message
        sender = message.get("from") or {}
        name = " ".join(
            part for part in (sender.get("first_name"), sender.get("last_name")) if part
        ) or sender.get("username", "")
        inbound = Inbound(
            external_id=str(message["chat"]["id"]),
            platform_message_id=str(message.get("message_id", "")),
            name=name,
            text=message.get("text") or message.get("caption") or "",
            sent_at=datetime.fromtimestamp(message.get("date", 0), tz=UTC),
        )
        if message.get("photo"):
            largest = message["photo"][-1]
            inbound.media.append(MediaRef(ref=largest["file_id"], kind="image"))
        if message.get("document"):
            document = message["document"]
            inbound.media.append(
                MediaRef(
                    ref=document["file_id"],
                    kind="document",
                    filename=document.get("file_name", ""),
                    content_type=document.get("mime_type", ""),
                )
            )
        contact = message.get("contact")
        # Only the sender's own number identifies them (anyone can share someone else's).
        if contact and contact.get("user_id") and contact.get("user_id") == sender.get("id"):
            inbound.phone = contact.get("phone_number", "")
            if not inbound.text:
                inbound.text = inbound.phone
        return inbound

    def download(self, media: MediaRef) -> Download:
        found = self._result(self._call("getFile", {"file_id": media.ref}))
        path = found.get("file_path", "")
        if not path:
            raise SendError("getFile returned no file_path", permanent=True)
        response = http("GET", f"{self.base}/file/bot{self.channel.access_token}/{path}")
        if response.status != 200:
            raise SendError(f"file download answered {response.status}")
        filename = media.filename or path.rsplit("/", 1)[-1]
        content_type = (
            media.content_type or mimetypes.guess_type(filename)[0] or "application/octet-stream"
        )
        return Download(response.body, filename, content_type)

    # --- outbound ---------------------------------------------------------------------

    def send_text(self, external_id: str, text: str) -> str:
        result = self._result(self._call("sendMessage", {"chat_id": external_id, "text": text}))
        return str(result["message_id"])

    def send_file(self, external_id: str, filename: str, content: bytes, content_type: str) -> str:
        method, field = (
            ("sendPhoto", "photo") if content_type in PHOTO_TYPES else ("sendDocument", "document")
        )
        body, form_type = multipart(
            {"chat_id": external_id}, {field: (filename, content, content_type)}
        )
        response = http("POST", self._url(method), data=body, content_type=form_type)
        return str(self._result(response)["message_id"])

    def send_template(self, external_id: str, text: str) -> str:
        return self.send_text(external_id, text)

    # --- helpers ----------------------------------------------------------------------

    def _url(self, method: str) -> str:
        return f"{self.base}/bot{self.channel.access_token}/{method}"

    def _call(self, method: str, params: dict) -> Response:
        return http("POST", self._url(method), json_body=params)

    @staticmethod
    def _result(response: Response):
        answer = response.json()
        if isinstance(answer, dict) and answer.get("ok"):
            return answer.get("result") or {}
        answer = answer if isinstance(answer, dict) else {}
        code = answer.get("error_code", response.status)
        text = f"Telegram {code}: {answer.get('description', '')}".strip()
        retry_after = (answer.get("parameters") or {}).get("retry_after")
        if code == 429 or retry_after:
            raise SendError(text, retry_after=retry_after)
        # 400 (bad request), 401 (bad token), 403 (bot blocked), 404: retrying cannot help.
        raise SendError(text, permanent=400 <= int(code) < 500)
