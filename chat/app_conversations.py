"""Conversations a company's mobile app opens for a signed-in customer (through the API).

The app's contact is known (the app's backend vouched for them with a service token), so
there is no pre-chat form: one conversation per contact and channel, its messages going
through ``chat.inbound.receive`` like every channel's, agents' replies leaving through
the same outbox as the widget's (``WidgetAdapter``: nothing remote, the app reads them).
"""

import uuid

from django.db import transaction
from django.utils.translation import gettext as _

from chat.adapters.base import Inbound, MediaRef
from chat.inbound import receive
from chat.models import ChatChannel, ChatMessage, Conversation
from chat.widget import MAX_TEXT, RefusedError, check_files

APP_PREFIX = "app-contact-"


def conversations_of(contact, channel: ChatChannel):
    """The contact's conversations on this channel (the API's whole reach for them)."""
    return Conversation.objects.filter(
        channel=channel, contact=contact, external_id=f"{APP_PREFIX}{contact.pk}"
    )


@transaction.atomic
def post_app_message(
    channel: ChatChannel, contact, *, text: str, files=(), client_id: str = ""
) -> ChatMessage:
    """Record the contact's message (opening their conversation and ticket the first time).

    ``client_id`` makes a retried request harmless: the same id is stored once.
    """
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise RefusedError(_("Messages are limited to %(count)d characters.") % {"count": MAX_TEXT})
    if not text and not files:
        raise RefusedError(_("Write a message or attach a file."))
    check_files(files)
    external_id = f"{APP_PREFIX}{contact.pk}"
    Conversation.objects.get_or_create(
        channel=channel,
        external_id=external_id,
        defaults={"contact": contact, "external_name": contact.name[:200]},
    )
    inbound = Inbound(
        external_id=external_id,
        platform_message_id=(client_id or uuid.uuid4().hex)[:100],
        name=contact.name,
        text=text,
        media=[
            MediaRef(ref="upload", kind="image" if f.content_type.startswith("image/") else "file")
            for f in files
        ],
    )
    record = receive(channel, inbound, files=list(files))
    if record is None:
        record = ChatMessage.objects.get(
            conversation__channel=channel,
            conversation__external_id=external_id,
            direction=ChatMessage.Direction.IN,
            platform_message_id=inbound.platform_message_id,
        )
    return record
