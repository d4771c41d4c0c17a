"""The website widget: our own platform, so there is no remote API to call.

The widget reads the conversation's messages itself (live events, or its poll), so
"sending" an agent's reply is recording it: the outbox row becomes sent at once and
``delivered``/``read`` follow from what the widget reports. Its inbound path is the
widget's own views (they call ``chat.services.inbound.receive``), not a webhook.
"""

import uuid

from chat.adapters.base import Inbound, MediaRef, Receipt, VerificationError


class WidgetAdapter:
    def __init__(self, channel):
        self.channel = channel

    def verify(self, request) -> None:
        raise VerificationError("the widget has no webhook")

    def handshake(self, request) -> str | None:
        return None

    def split(self, payload) -> list[tuple[str, dict]]:
        return []

    def parse(self, fragment: dict) -> Inbound | list[Receipt] | None:
        return None

    def download(self, media: MediaRef):
        raise VerificationError("the widget uploads its files directly")

    def send_text(self, external_id: str, text: str) -> str:
        return f"widget-{uuid.uuid4().hex}"

    def send_file(self, external_id: str, filename: str, content: bytes, content_type: str) -> str:
        return f"widget-{uuid.uuid4().hex}"

    def send_template(self, external_id: str, text: str) -> str:
        return self.send_text(external_id, text)
