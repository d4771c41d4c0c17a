"""One adapter per platform; ``adapter_for(channel)`` picks it."""

from chat.adapters.messenger import MessengerAdapter
from chat.adapters.telegram import TelegramAdapter
from chat.adapters.whatsapp import WhatsAppAdapter
from chat.adapters.widget import WidgetAdapter

ADAPTERS = {
    "telegram": TelegramAdapter,
    "whatsapp": WhatsAppAdapter,
    "messenger": MessengerAdapter,
    "widget": WidgetAdapter,
}


def adapter_for(channel):
    return ADAPTERS[channel.kind](channel)
