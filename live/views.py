"""The event stream: ``/live/stream/``, server-sent events.

Served by an ASGI server (uvicorn), the view is a coroutine that waits on the process's hub:
an open browser costs a queue and a socket, not a worker thread or a database connection.
Under a WSGI server (``manage.py runserver``) it streams for a while from its own reads and
ends; the browser reconnects and resumes from the last event it got.
"""

import asyncio
import contextlib
import time

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.handlers.asgi import ASGIRequest
from django.db import connections
from django.http import HttpResponseForbidden, StreamingHttpResponse
from django.views.decorators.http import require_GET

from live import access
from live.backends import new_reader
from live.hub import OVERFLOW, RESYNC, get_hub

# A WSGI server learns that a browser left only when a write fails: write often.
WSGI_HEARTBEAT_SECONDS = 2


def _last_event_id(request) -> int | None:
    # The browser's own reconnect sends the header; live.js's after a failure, the parameter.
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


def _topics_then_release(request) -> list[str]:
    try:
        return access.topics_for(request)
    finally:
        # This request's thread keeps no database connection for the stream's lifetime.
        connections.close_all()


@require_GET
async def stream(request):
    try:
        topics = frozenset(await sync_to_async(_topics_then_release)(request))
    except PermissionDenied:
        return HttpResponseForbidden()
    if not topics:
        return HttpResponseForbidden()
    last_id = _last_event_id(request)
    if isinstance(request, ASGIRequest):
        body = _events(topics, last_id)
    else:
        body = _events_for_wsgi(topics, last_id)
    response = StreamingHttpResponse(body, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"  # a proxy must pass each event on at once
    return response


def _opening() -> bytes:
    # The retry field sets the browser's own reconnect delay; the comment sends headers now.
    return f"retry: {settings.LIVE_RETRY_MILLISECONDS}\n: connected\n\n".encode()


async def _events(topics: frozenset[str], last_id: int | None):
    hub = get_hub()
    subscription = hub.subscribe(topics)  # before the replay: nothing falls in between
    try:
        # The first browser of a process waits for the reader to listen (Redis subscribing).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(hub.ready.wait(), timeout=5)
        yield _opening()
        replayed: set[int] = set()
        if last_id is not None:
            events = await hub.replay(topics, last_id)
            if events is None:
                yield RESYNC.frame
            else:
                replayed = {event.id for event in events}
                yield b"".join(event.frame for event in events)
        # A stream ends after a while and the browser reconnects (resuming): so its topics
        # are authorised again, and an agent taken off a pool or signed out stops hearing.
        ends_at = time.monotonic() + settings.LIVE_STREAM_MAX_SECONDS
        while time.monotonic() < ends_at:
            try:
                event = await asyncio.wait_for(
                    subscription.queue.get(), timeout=settings.LIVE_HEARTBEAT_SECONDS
                )
            except TimeoutError:
                yield b": ping\n\n"
                continue
            batch = [event]
            while not subscription.queue.empty():
                batch.append(subscription.queue.get_nowait())
            if OVERFLOW in batch:
                return  # too slow a reader: it reconnects with Last-Event-ID
            yield b"".join(event.frame for event in batch if event.id not in replayed)
    finally:
        hub.unsubscribe(subscription)


def _events_for_wsgi(topics: frozenset[str], last_id: int | None):
    reader = new_reader()
    last_sent = time.monotonic()
    try:
        yield _opening()
        for event in reader.read_sync(topics, last_id, settings.LIVE_WSGI_STREAM_SECONDS):
            if event is not None:
                last_sent = time.monotonic()
                yield event.frame
            elif time.monotonic() - last_sent >= WSGI_HEARTBEAT_SECONDS:
                last_sent = time.monotonic()
                yield b": ping\n\n"
    finally:
        connections.close_all()
