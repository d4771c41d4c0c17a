"""Where published events travel: Redis pub/sub when configured, else a database table.

Each backend has a sending side (``send``, called by ``publish`` in any process) and a
reading side used by the stream server's hub (``live.hub``): ``run`` delivers every new
event to the hub, with one subscription (Redis) or one query every ``LIVE_POLL_SECONDS``
(database) for the whole process, however many browsers are connected.
"""

import asyncio
import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Protocol

import redis
import redis.asyncio
from django.conf import settings
from django.db import close_old_connections, connections
from django.db.models import Q
from django.utils import timezone

from live.models import LiveEvent

if TYPE_CHECKING:
    from live.hub import Hub

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    id: int
    topic: str
    event: str
    data: str  # JSON text, as published

    @cached_property
    def frame(self) -> bytes:
        """The server-sent-events frame, built once however many browsers receive it."""
        message = f'{{"event":"{self.event}","topic":"{self.topic}","data":{self.data}}}'
        # Events of the stream itself (resync) carry no id: the browser keeps its last one.
        event_id = f"id: {self.id}\n" if self.id > 0 else ""
        return f"{event_id}data: {message}\n\n".encode()


class Backend(Protocol):
    def send(self, events: list[tuple[str, str, str]]) -> None:
        """Deliver (topic, event, JSON text) triples, in order, in one go."""
        ...

    async def run(self, hub: "Hub") -> None: ...

    async def replay(self, topics: frozenset[str], after: int, hub: "Hub") -> list[Event] | None:
        """Events on ``topics`` after id ``after``; None when they cannot all be found."""
        ...

    def close(self) -> None: ...

    def read_sync(self, topics: frozenset[str], after: int | None, seconds: float) -> Iterator:
        """For a WSGI server (runserver): this browser's events for ``seconds``."""
        ...


# ------------------------------------------------------------------------ database


class DatabaseBackend:
    """A table every process writes to and every stream server polls (embedded mode)."""

    # A row whose id was drawn before a row already read, but committed after it, is
    # still found: every poll also reads the last few seconds, skipping what it delivered.
    LATE_COMMIT_SECONDS = 5

    def __init__(self):
        self._executor: ThreadPoolExecutor | None = None
        self._delivered: dict[int, float] = {}
        self._cursor = 0

    def send(self, events: list[tuple[str, str, str]]) -> None:
        LiveEvent.objects.bulk_create(
            [LiveEvent(topic=topic, event=event, data=data) for topic, event, data in events]
        )

    @property
    def executor(self) -> ThreadPoolExecutor:
        # One thread, so one database connection, for all the polls of this process.
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="live-poll")
        return self._executor

    async def _in_thread(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self.executor, function, *args)

    async def run(self, hub: "Hub") -> None:
        idle_since: datetime | None = timezone.now()
        hub.ready.set()  # what is published from now on is read
        while True:
            if hub.has_subscribers():
                try:
                    if idle_since is not None:
                        # Nobody heard what was published while nobody listened; a browser
                        # that was away asks for it with Last-Event-ID.
                        self._cursor = await self._in_thread(self._latest_id, idle_since)
                        idle_since = None
                    hub.deliver(await self._in_thread(self._poll))
                except Exception:
                    logger.exception("live.database_poll_failed")
                    await self._in_thread(connections.close_all)
            elif idle_since is None:
                # Give the connection back until someone listens again. What was delivered
                # stays remembered: the next page must not hear the last page's events
                # again from the late-commit window (a call's pop-up came back over the
                # form opened from it). _poll forgets entries by age.
                idle_since = timezone.now()
                await self._in_thread(connections.close_all)
            await asyncio.sleep(settings.LIVE_POLL_SECONDS)

    def _latest_id(self, before: datetime | None = None) -> int:
        rows = LiveEvent.objects.all()
        if before is not None:
            rows = rows.filter(created_at__lt=before)
        latest = rows.order_by("-id").values_list("id", flat=True).first()
        return latest or 0

    def _poll(self) -> list[Event]:
        close_old_connections()
        now = time.monotonic()
        recent_since = timezone.now() - timedelta(seconds=self.LATE_COMMIT_SECONDS)
        rows = (
            LiveEvent.objects.filter(Q(id__gt=self._cursor) | Q(created_at__gte=recent_since))
            .order_by("id")
            .values_list("id", "topic", "event", "data")
        )
        events = [Event(*row) for row in rows if row[0] not in self._delivered]
        for event in events:
            self._delivered[event.id] = now
            self._cursor = max(self._cursor, event.id)
        forget_before = now - 2 * self.LATE_COMMIT_SECONDS
        self._delivered = {key: at for key, at in self._delivered.items() if at >= forget_before}
        return events

    async def replay(self, topics: frozenset[str], after: int, hub: "Hub") -> list[Event] | None:
        return await self._in_thread(self._replay, topics, after)

    def _replay(self, topics: frozenset[str], after: int) -> list[Event] | None:
        oldest = LiveEvent.objects.order_by("id").values_list("id", flat=True).first()
        if oldest is not None and oldest > after + 1 and after < self._cursor:
            return None  # pruned since: the browser must reload its parts
        rows = LiveEvent.objects.filter(id__gt=after, id__lte=self._cursor, topic__in=topics)
        columns = ("id", "topic", "event", "data")
        return [Event(*row) for row in rows.order_by("id").values_list(*columns)]

    def close(self) -> None:
        if self._executor is not None:
            self._executor.submit(connections.close_all).result(timeout=10)
            self._executor.shutdown(wait=True)
            self._executor = None

    def read_sync(self, topics: frozenset[str], after: int | None, seconds: float) -> Iterator:
        if after is None:
            after = self._latest_id()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            rows = LiveEvent.objects.filter(id__gt=after, topic__in=topics).order_by("id")
            events = [Event(*row) for row in rows.values_list("id", "topic", "event", "data")]
            # No connection held between polls by a thread that may outlive its browser.
            connections.close_all()
            for event in events:
                after = event.id
                yield event
            yield None  # a chance to send a heartbeat
            time.sleep(settings.LIVE_POLL_SECONDS)


def prune_events(*, older_than: timedelta) -> int:
    """Delete the database backend's events older than ``older_than``; safe to re-run."""
    deleted, _ = LiveEvent.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


# --------------------------------------------------------------------------- redis


# One round trip for a batch of events: number them (ids that a browser can resume from,
# the same in every process, consecutive within the batch) and publish each. Topic and
# event names never contain a newline; JSON text neither. ARGV: the channel, then the
# events; returns the first one's id.
_PUBLISH = """
local count = #ARGV - 1
local first = redis.call('INCRBY', KEYS[1], count) - count + 1
for i = 2, #ARGV do
  redis.call('PUBLISH', ARGV[1], (first + i - 2) .. '\\n' .. ARGV[i])
end
return first
"""
# Events per script call: a batch's events go in one call, a flood in a few.
_PUBLISH_CHUNK = 500


def _parse(message: bytes) -> Event:
    event_id, topic, event, data = message.decode().split("\n", 3)
    return Event(int(event_id), topic, event, data)


class RedisBackend:
    """Redis pub/sub: one channel for every topic; each stream server subscribes once."""

    def __init__(self, url: str, channel: str):
        self.url, self.channel = url, channel
        self.counter_key = f"{channel}:last-id"
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._script = self._client.register_script(_PUBLISH)

    def send(self, events: list[tuple[str, str, str]]) -> None:
        payloads = [f"{topic}\n{event}\n{data}" for topic, event, data in events]
        for start in range(0, len(payloads), _PUBLISH_CHUNK):
            chunk = payloads[start : start + _PUBLISH_CHUNK]
            self._script(keys=[self.counter_key], args=[self.channel, *chunk])

    async def run(self, hub: "Hub") -> None:
        connected_before = False
        while True:
            client = redis.asyncio.Redis.from_url(self.url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    # Wait for Redis to confirm: only then is nothing published missed.
                    while await pubsub.get_message(timeout=5) is None:
                        pass
                    hub.ready.set()
                    if connected_before:
                        hub.resync()  # events sent while we were away are lost
                    connected_before = True
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            hub.deliver([_parse(message["data"])])
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("live.redis_subscription_failed")
                await asyncio.sleep(1)
            finally:
                await client.aclose()

    async def replay(self, topics: frozenset[str], after: int, hub: "Hub") -> list[Event] | None:
        # Pub/sub keeps nothing: resume from what this process received lately.
        recent = list(hub.recent)
        if not recent or recent[0].id > after + 1:
            return None
        return [event for event in recent if event.id > after and event.topic in topics]

    def close(self) -> None:
        self._client.close()

    def read_sync(self, topics: frozenset[str], after: int | None, seconds: float) -> Iterator:
        deadline = time.monotonic() + seconds
        with self._client.pubsub() as pubsub:
            pubsub.subscribe(self.channel)
            while time.monotonic() < deadline:
                message = pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is None:
                    yield None
                    continue
                event = _parse(message["data"])
                if event.topic in topics:
                    yield event


# ----------------------------------------------------------------------- selection

_backends: dict[str, Backend] = {}
_lock = threading.Lock()


def backend() -> Backend:
    """The backend the settings name (``LIVE_REDIS_URL``, else the database), one per
    process and configuration."""
    url, channel = settings.LIVE_REDIS_URL, settings.LIVE_REDIS_CHANNEL
    key = f"{url}|{channel}"
    with _lock:
        if key not in _backends:
            _backends[key] = RedisBackend(url, channel) if url else DatabaseBackend()
        return _backends[key]


def new_reader() -> Backend:
    """A backend of its own for one hub (the reading side keeps per-process state)."""
    url = settings.LIVE_REDIS_URL
    return RedisBackend(url, settings.LIVE_REDIS_CHANNEL) if url else DatabaseBackend()
