"""The project's ASGI handler: Django's, except that an event stream gets no thread.

Django runs each request in a context with its own thread for synchronous code (the
middleware), kept until the response ends: for a stream open for hours that is a thread
per browser, idle. A stream's synchronous steps (session, user, topic rules) are short, so
they share the process's one thread for synchronous code instead; its event loop does the
rest.
"""

from django.core.handlers.asgi import ASGIHandler

STREAM_PATH = "/live/stream/"


class HelpdeskASGIHandler(ASGIHandler):
    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["path"].endswith(STREAM_PATH):
            await self.handle(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)
