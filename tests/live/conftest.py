from tests.live.server import asgi_server, live_channel, open_stream  # noqa: F401
