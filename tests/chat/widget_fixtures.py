"""A widget channel on a shop's site, and a client that talks to it as widget.js does."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from chat.models import ChatChannel

SHOP = "https://shop.example"


@pytest.fixture
def widget_channel(pool):
    cache.clear()  # the rate counters of earlier tests, same minute, same address
    return ChatChannel.objects.create(
        name="Website",
        kind=ChatChannel.Kind.WIDGET,
        pool=pool,
        allowed_origins=f"{SHOP}\nhttp://localhost:8001",
        greeting="Hello! An agent will be with you shortly.",
    )


class Visitor:
    """One browser on the shop's page: its origin, and its token once it has one."""

    def __init__(self, client, channel, origin=SHOP, address="198.51.100.7"):
        self.client, self.channel, self.origin = client, channel, origin
        self.address = address
        self.token = ""

    def url(self, name, *args):
        return reverse(f"chat:widget_{name}", args=[self.channel.public_key, *args])

    def _headers(self):
        headers = {"HTTP_ORIGIN": self.origin, "REMOTE_ADDR": self.address}
        if self.token:
            headers["HTTP_X_CHAT_VISITOR"] = self.token
        return headers

    def get(self, name, *args, **params):
        return self.client.get(self.url(name, *args), params, **self._headers())

    def post_json(self, name, data):
        return self.client.post(
            self.url(name), data, content_type="application/json", **self._headers()
        )

    def config(self):
        return self.get("config")

    def send(self, text="", *, files=(), stamp=None, **fields):
        data = {"text": text, "files": list(files), **fields}
        if not self.token:
            data.setdefault("stamp", stamp or self.config().json()["stamp"])
        response = self.client.post(self.url("messages"), data, **self._headers())
        if response.status_code == 201:
            self.token = response.json()["token"]
        return response


@pytest.fixture
def visitor(client, widget_channel, settings):
    settings.CHAT_WIDGET_MIN_SECONDS = 0
    return Visitor(client, widget_channel)
