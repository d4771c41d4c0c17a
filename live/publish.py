"""The one way to push an event to browsers: ``publish(topic, event, data)``, after commit."""

import json
import logging
import re
from collections.abc import Iterable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

logger = logging.getLogger(__name__)

TOPIC = re.compile(r"[a-z_]+:[A-Za-z0-9_.\-]{1,150}")
EVENT = re.compile(r"[a-z_]+(\.[a-z_]+)+")


def publish(topic: str, event: str, data: dict) -> None:
    """Send ``event`` with ``data`` to the browsers subscribed to ``topic``, once the current
    transaction commits (at once outside one; never for a rollback).

    ``data`` is encoded here, so a value JSON cannot carry fails in the caller. A backend
    that cannot be reached is logged, never raised: the change itself is committed, and the
    next page load shows it. Works from any process (web, Celery worker, listener).
    """
    publish_many([(topic, event, data)])


def publish_many(events: Iterable[tuple[str, str, dict]]) -> None:
    """``publish`` for many (topic, event, data) at once: one INSERT or one Redis round trip
    after commit, however many (a receiver handling a batch of tickets)."""
    encoded = []
    for topic, event, data in events:
        if not TOPIC.fullmatch(topic):
            raise ValueError(f"not a live topic: {topic!r}")
        if not EVENT.fullmatch(event):
            raise ValueError(f"not a live event name: {event!r}")
        encoded.append(
            (topic, event, json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":")))
        )
    if encoded:
        transaction.on_commit(lambda: _send(encoded))


def _send(events: list[tuple[str, str, str]]) -> None:
    from live.backends import backend

    try:
        backend().send(events)
    except Exception:
        logger.exception("live.publish_failed events=%s", [event[:2] for event in events[:10]])
