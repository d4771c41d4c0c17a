"""An ASGI live server (uvicorn in a thread) and a stream reader, for the live tests.

pytest-django's live server speaks WSGI, which cannot hold a stream open without a thread
each; the live app is served the way `make run` and production serve it.
"""

import contextlib
import http.client
import json
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import connection

from tests.mailboxes.smtp_sink import free_port

ROOT = Path(__file__).resolve().parent.parent.parent


class AsgiServer:
    def __init__(self):
        import uvicorn
        from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

        from live.asgi import HelpdeskASGIHandler

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            ASGIStaticFilesHandler(HelpdeskASGIHandler()),
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            log_level="warning",
            timeout_graceful_shutdown=1,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        # Streams still open end first (their browsers would reconnect), then the server.
        from live.hub import close_hubs, end_streams

        end_streams()
        time.sleep(0.1)
        self.server.should_exit = True
        self.thread.join(timeout=15)
        close_hubs()


@pytest.fixture
def asgi_server(transactional_db, settings):
    from django.db import connections

    settings.LIVE_POLL_SECONDS = 0.1
    # As helpdesk/asgi.py sets it: each request's thread closes its connection at the end.
    database = connections.settings["default"]
    max_age = database.get("CONN_MAX_AGE", 0)
    database["CONN_MAX_AGE"] = 0
    try:
        with AsgiServer() as server:
            yield server
    finally:
        database["CONN_MAX_AGE"] = max_age


@pytest.fixture
def live_channel(settings):
    """Settings for the Redis backend on its own channel (pub/sub ignores DB numbers)."""
    from tests.celery_worker import redis_available
    from tests.conftest import require

    url = os.environ.get("TEST_LIVE_REDIS_URL", "redis://127.0.0.1:6379/6")
    require(redis_available(url), f"needs Redis at {url}")
    settings.LIVE_REDIS_URL = url
    settings.LIVE_REDIS_CHANNEL = f"helpdesk-test:live:{os.getpid()}:{time.monotonic_ns()}"
    return settings


def session_cookie(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


class Stream:
    """One browser's event stream, read in a thread; ``next()`` returns parsed events."""

    def __init__(self, url: str, *, user=None, params: str = "", last_event_id=None):
        parts = urlsplit(url)
        headers = {"Accept": "text/event-stream"}
        if user is not None:
            headers["Cookie"] = f"sessionid={session_cookie(user)}"
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        path = f"/live/stream/?{params}" if params else "/live/stream/"
        self.connection.request("GET", path, headers=headers)
        self.response = self.connection.getresponse()
        self.status = self.response.status
        self.events: queue.Queue = queue.Queue()
        self.comments: list[str] = []
        self.opened = threading.Event()
        self.ended = threading.Event()
        if self.status == 200:
            threading.Thread(target=self._read, name="test-stream-reader", daemon=True).start()
            assert self.opened.wait(10), "the stream sent nothing"

    def _read(self):
        frame: dict = {}
        try:
            while True:
                line = self.response.readline()
                if not line:
                    self.ended.set()
                    return
                line = line.decode().rstrip("\n")
                if line.startswith(":"):
                    self.comments.append(line[1:].strip())
                    self.opened.set()
                elif line.startswith("id: "):
                    frame["id"] = int(line[4:])
                elif line.startswith("data: "):
                    frame.update(json.loads(line[6:]))
                elif line == "" and "event" in frame:
                    frame["received_at"] = time.time()
                    self.events.put(frame)
                    frame = {}
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            # closed by the test
            return

    def next(self, timeout: float = 5.0) -> dict:
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no event within {timeout} s") from None

    def nothing_within(self, seconds: float) -> bool:
        try:
            event = self.events.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError(f"unexpected event {event}")

    def close(self):
        # Shut the socket down: the reader thread's file object would keep it open.
        if self.connection.sock is not None:
            with contextlib.suppress(OSError):
                self.connection.sock.shutdown(socket.SHUT_RDWR)
        self.connection.close()


@pytest.fixture
def open_stream():
    """Open a Stream (same arguments); every one opened is closed when the test ends."""
    opened = []

    def open_one(*args, **kwargs) -> Stream:
        stream = Stream(*args, **kwargs)
        opened.append(stream)
        return stream

    yield open_one
    for stream in opened:
        stream.close()


def database_url() -> str:
    """The URL of the test database, for another process."""
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    user = settings["USER"] or "postgres"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return (
        f"postgres://{user}{password}@{settings['HOST'] or '127.0.0.1'}:"
        f"{settings['PORT'] or 5432}/{settings['NAME']}"
    )


def run_in_another_process(code: str, *, settings) -> str:
    """Run Python in ``manage.py shell`` in a new process on the test database and the
    current live settings; returns its last line of output."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "LIVE_REDIS_URL": settings.LIVE_REDIS_URL,
        "LIVE_REDIS_CHANNEL": settings.LIVE_REDIS_CHANNEL,
    }
    done = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


PUBLISH = """
import time
from django.db import transaction
from live.publish import publish
with transaction.atomic():
    sent_at = time.time()
    publish({topic!r}, {event!r}, {{**{data!r}, "sent_at": sent_at}})
print(sent_at)
"""


def publish_in_another_process(topic: str, event: str, data: dict, *, settings) -> float:
    """Publish from a new OS process; returns the moment it published (also in the data)."""
    code = PUBLISH.format(topic=topic, event=event, data=data)
    return float(run_in_another_process(code, settings=settings))
