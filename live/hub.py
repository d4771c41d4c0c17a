"""One hub per stream-server process (per event loop): it reads the backend once and fans
each event out to every connected browser subscribed to its topic."""

import asyncio
import contextvars
import logging
import weakref
from collections import defaultdict, deque
from collections.abc import Iterable

from django.conf import settings

from live.backends import Backend, Event, new_reader

logger = logging.getLogger(__name__)

# What a browser that fell this far behind gets instead: a reconnect, which resumes.
QUEUE_LIMIT = 1000
# Events kept for browsers that reconnect (Redis has no history of its own).
RECENT_LIMIT = 5000

RESYNC = Event(0, "", "live.resync", "{}")
OVERFLOW = Event(-1, "", "live.overflow", "{}")


class Subscription:
    def __init__(self, topics: frozenset[str]):
        self.topics = topics
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.overflowed = False

    def put(self, event: Event) -> None:
        if self.overflowed:
            return
        if self.queue.qsize() >= QUEUE_LIMIT:
            # The browser reads too slowly: end its stream; it reconnects and resumes.
            self.overflowed = True
            self.queue.put_nowait(OVERFLOW)
        else:
            self.queue.put_nowait(event)


class Hub:
    def __init__(self, reader: Backend):
        self.reader = reader
        self.by_topic: dict[str, set[Subscription]] = defaultdict(set)
        self.subscriptions: set[Subscription] = set()
        self.recent: deque[Event] = deque(maxlen=RECENT_LIMIT)
        self.task: asyncio.Task | None = None
        # Set once the reader hears every new event (Redis: subscribed).
        self.ready = asyncio.Event()

    def has_subscribers(self) -> bool:
        return bool(self.subscriptions)

    def subscribe(self, topics: Iterable[str]) -> Subscription:
        subscription = Subscription(frozenset(topics))
        self.subscriptions.add(subscription)
        for topic in subscription.topics:
            self.by_topic[topic].add(subscription)
        if self.task is None or self.task.done():
            # A context of its own: the request that happens to start the reader must not
            # lend it its context (its thread-sensitive executor ends with that request).
            self.task = asyncio.get_running_loop().create_task(
                self._read(), context=contextvars.Context()
            )
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self.subscriptions.discard(subscription)
        for topic in subscription.topics:
            listeners = self.by_topic.get(topic)
            if listeners is not None:
                listeners.discard(subscription)
                if not listeners:
                    del self.by_topic[topic]

    async def _read(self) -> None:
        while True:
            try:
                await self.reader.run(self)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("live.reader_failed")
                await asyncio.sleep(1)

    def deliver(self, events: Iterable[Event]) -> None:
        for event in events:
            self.recent.append(event)
            for subscription in self.by_topic.get(event.topic, ()):
                subscription.put(event)

    def resync(self) -> None:
        """Tell every browser that events may have been missed (the backend was away)."""
        for subscription in self.subscriptions:
            subscription.put(RESYNC)

    def end_streams(self) -> None:
        for subscription in list(self.subscriptions):
            subscription.queue.put_nowait(OVERFLOW)

    async def replay(self, topics: frozenset[str], after: int) -> list[Event] | None:
        return await self.reader.replay(topics, after, self)

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.reader.close()


_hubs: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub]" = weakref.WeakKeyDictionary()


def get_hub() -> Hub:
    """The running event loop's hub (a server process has one loop; tests may run several)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub(new_reader())
    return hub


def end_streams() -> None:
    """End every open stream (its browser reconnects, maybe to another server)."""
    for loop, hub in list(_hubs.items()):
        if not loop.is_closed():
            loop.call_soon_threadsafe(hub.end_streams)


def close_hubs() -> None:
    """Stop every hub's reader and close its database connection (a test server's end)."""
    for loop, hub in list(_hubs.items()):
        if hub.task is not None and not loop.is_closed():
            loop.call_soon_threadsafe(hub.task.cancel)
        hub.reader.close()
        del _hubs[loop]


def heartbeat_seconds() -> float:
    return settings.LIVE_HEARTBEAT_SECONDS
