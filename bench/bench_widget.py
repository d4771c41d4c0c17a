"""Benchmark the website chat widget: N visitors each writing a message every few seconds.

Usage, from the repository root::

    createdb -h 127.0.0.1 -U postgres helpdesk_bench_widget
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench_widget \\
    CELERY_BROKER_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/bench_widget.py [--visitors 200] [--every 5] [--seconds 60]

The database name must contain "bench"; the script migrates it and adds a pool, an agent
and a widget channel. It starts uvicorn (as `make run` serves the site) and a Celery worker
on every queue (the follow-ups of each message: search indexing, the greeting through the
chat outbox, SLA), both in their own processes, on PostgreSQL with Redis as broker and as
the live backend. Then, from this process (asyncio, plain HTTP/1.1 on keep-alive sockets):

- one agent's event stream (``/live/stream/``, signed in, following the pool's topic);
- N visitors, each opening the widget's config, then posting a message every ``--every``
  seconds for ``--seconds`` (the first opens their conversation and ticket). At most
  ``--in-flight`` requests run at once, as behind a proxy with that many upstream
  connections: under ASGI each request in flight holds a database connection (production
  puts pgbouncer in front), and the shared PostgreSQL here allows 100 in all. Latency is
  measured from the visitor's decision to send, so the wait for a slot counts.

It prints: messages sent and answered 201; messages stored (``ChatMessage`` rows in, and
ticket messages) against that count, so none is lost or doubled; the latency from sending
to the agent's stream hearing it (p50, p95, max); and the CPU seconds of the server and
the worker per message (from /proc, over the run plus the worker's drain).
"""

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # a few ORM calls between asyncio steps

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from bench import pg_state  # noqa: E402
from bench.bench_live import cpu_seconds, free_port, start_server  # noqa: E402
from chat.models import ChatChannel, ChatMessage  # noqa: E402
from people.services import create_agent  # noqa: E402
from tickets.models import Message, Pool, PoolMembership  # noqa: E402

ORIGIN = "https://shop.bench.test"
QUEUES = "periodic,intake,customer_mail,internal_mail,webhooks,chat,search"


def setup():
    name = str(connection.settings_dict["NAME"])
    if "bench" not in name and "widget" not in name:
        sys.exit(f"refusing to run on {name!r}: its name must contain 'bench' or 'widget'")
    call_command("migrate", verbosity=0)
    pool, _ = Pool.objects.get_or_create(name="Widget bench")
    channel, _ = ChatChannel.objects.get_or_create(
        name="Widget bench",
        defaults={"kind": "widget", "pool": pool, "allowed_origins": ORIGIN, "greeting": "Hi!"},
    )
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username="widget-bench").first()
    if user is None:
        user = create_agent(username="widget-bench", password=None, email="wb@bench.test")
        PoolMembership.objects.create(pool=pool, user=user)
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from bench.bench_live import SessionStore  # the signed-in session, as bench_live makes it

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return channel, session.session_key


def start_worker(env: dict) -> subprocess.Popen:
    worker = subprocess.Popen(  # noqa: S603 - the product's own worker command
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "helpdesk",
            "worker",
            "-Q",
            QUEUES,
            "--concurrency=2",
            "--loglevel=warning",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
    )
    settle(worker.pid)  # the worker loads its language models before its pool forks
    return worker


def settle(pid: int, timeout: float = 120) -> None:
    """Wait until a process tree has finished starting (its CPU use has stopped growing), so
    that what it spends loading is not counted as the messages' cost."""
    deadline = time.monotonic() + max(timeout, 5)
    time.sleep(3)
    quiet, before = 0, tree_cpu(pid)
    while quiet < 2 and time.monotonic() < deadline:
        time.sleep(1)
        now = tree_cpu(pid)
        quiet = quiet + 1 if now - before < 0.05 else 0
        before = now


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and its children (the worker's pool)."""
    total = cpu_seconds(pid)
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                total += tree_cpu(int(child))
    return total


class Connection:
    """One keep-alive HTTP/1.1 connection: a visitor's browser talking to the server."""

    def __init__(self, port: int):
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: bytes = b"", headers=None):
        """Send and read the answer; a keep-alive socket the server closed (uvicorn closes
        idle ones after 5 s) is reopened once: a message's client id makes a resend safe."""
        for attempt in (1, 2):
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
            try:
                return await self._exchange(method, path, body, headers)
            except (ConnectionError, IndexError, asyncio.IncompleteReadError):
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def _exchange(self, method, path, body, headers):
        assert self.reader is not None and self.writer is not None
        lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Origin: {ORIGIN}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body:
            lines += [
                "Content-Type: application/x-www-form-urlencoded",
                f"Content-Length: {len(body)}",
            ]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await self.writer.drain()
        status = int((await self.reader.readline()).split()[1])
        length = 0
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        data = await self.reader.readexactly(length) if length else b""
        return status, data

    def close(self):
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


async def agent_stream(port, session_key, heard_at: dict, opened, stop):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            "GET /live/stream/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
            f"Cookie: sessionid={session_key}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    if b" 200 " not in await reader.readline():
        raise RuntimeError("the agent's stream was refused")
    try:
        while not stop.is_set():
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b": connected"):
                opened.set()
            elif line.startswith(b"data: "):
                message = json.loads(line[6:])
                if message["event"] == "chat.message" and message["data"]["direction"] == "in":
                    # Often before the visitor's own answer arrives: matched up at the end.
                    heard_at.setdefault(message["data"]["id"], time.time())
    finally:
        writer.close()


async def visitor(port, key, every, seconds, sent_at, counts, start_delay, gate, firsts):
    await asyncio.sleep(start_delay)  # visitors spread over the first interval
    http = Connection(port)
    base = f"/chat/widget/{key}/"
    try:
        async with gate:
            status, data = await http.request("GET", f"{base}config/")
        stamp = json.loads(data)["stamp"]
        token = ""
        last_id = 0  # the newest message shown: the widget asks only for what is newer
        ends = time.monotonic() + seconds
        number = 0
        while time.monotonic() < ends:
            tick = time.monotonic()
            fields = {
                "text": f"Message {number} from a bench visitor",
                "client_id": uuid.uuid4().hex,
                "after": str(last_id),
            }
            if not token:
                fields.update({"stamp": stamp, "name": "Bench visitor"})
            body = urllib.parse.urlencode(fields).encode()
            headers = {"X-Chat-Visitor": token} if token else {}
            before = time.time()  # the wait for the gate counts: it is the visitor's wait
            async with gate:
                status, data = await http.request("POST", f"{base}messages/", body, headers)
            counts["sent"] += 1
            if status == 201:
                answer = json.loads(data)
                token = answer["token"]
                sent_at[answer["id"]] = before
                if "stamp" in fields:
                    firsts.add(answer["id"])  # a first message: it opened a ticket
                last_id = max([last_id, answer["id"]] + [m["id"] for m in answer["messages"]])
                counts["stored"] += 1
            else:
                counts[f"status {status}"] = counts.get(f"status {status}", 0) + 1
            number += 1
            await asyncio.sleep(max(0.0, every - (time.monotonic() - tick)))
    finally:
        http.close()


async def run(args, channel, session_key, port):
    sent_at: dict[int, float] = {}
    heard_at: dict[int, float] = {}
    counts = {"sent": 0, "stored": 0}
    stop, opened = asyncio.Event(), asyncio.Event()
    stream = asyncio.create_task(agent_stream(port, session_key, heard_at, opened, stop))
    await asyncio.wait_for(opened.wait(), timeout=30)
    gate = asyncio.Semaphore(args.in_flight)
    firsts: set[int] = set()
    visitors = [
        visitor(
            port, channel.public_key, args.every, args.seconds, sent_at, counts,
            args.every * n / args.visitors, gate, firsts,
        )
        for n in range(args.visitors)
    ]  # fmt: skip
    await asyncio.gather(*visitors)
    await asyncio.sleep(3)  # the last events reach the stream
    stop.set()
    stream.cancel()
    latencies = [heard_at[pk] - sent for pk, sent in sent_at.items() if pk in heard_at]
    of_firsts = [heard_at[pk] - sent_at[pk] for pk in firsts if pk in heard_at]
    of_others = [
        heard_at[pk] - sent for pk, sent in sent_at.items() if pk in heard_at and pk not in firsts
    ]
    return counts, (latencies, of_firsts, of_others), len(sent_at) - len(latencies)


def stored_ticket_messages(channel) -> int:
    return Message.objects.filter(ticket__conversations__channel=channel).distinct().count()


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--every", type=float, default=5.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument(
        "--web-workers",
        type=int,
        default=1,
        help="uvicorn processes: 1 as `make run`, 3 as docker-compose's web service",
    )
    parser.add_argument(
        "--in-flight",
        type=int,
        default=16,
        help="requests at once (a proxy's upstream limit; each holds a database connection)",
    )
    args = parser.parse_args()
    if not settings.LIVE_REDIS_URL:
        print("note: no Redis for live events (set CELERY_BROKER_URL=redis://...): table backend")
    channel, session_key = setup()
    before_in = ChatMessage.objects.filter(channel=channel, direction="in").count()
    before_messages = stored_ticket_messages(channel)
    env = {
        **os.environ,
        # Every visitor comes from 127.0.0.1 here: the per-address limit is a site's, not ours.
        "CHAT_WIDGET_IP_PER_MINUTE": "100000",
        "CHAT_WIDGET_MIN_SECONDS": "0",
        "CACHE_URL": os.environ.get("CACHE_URL", "locmemcache://"),
    }
    port = free_port()
    server = start_server(port, env, workers=args.web_workers)
    settle(server.pid)  # with several processes, the others may still be starting
    worker = start_worker(env)
    try:
        cpu_server, cpu_worker = tree_cpu(server.pid), tree_cpu(worker.pid)
        database_before = pg_state.read()
        started = time.monotonic()
        counts, latencies, unheard = asyncio.run(run(args, channel, session_key, port))
        elapsed = time.monotonic() - started
        # The worker drains the follow-ups of the last messages: a chat's search document
        # is rebuilt SEARCH_CHAT_INDEX_SECONDS after its first line of a window.
        time.sleep(10 + getattr(settings, "SEARCH_CHAT_INDEX_SECONDS", 0))
        cpu_server = tree_cpu(server.pid) - cpu_server
        cpu_worker = tree_cpu(worker.pid) - cpu_worker
        database_after = pg_state.read()
    finally:
        server.terminate()
        worker.terminate()
        server.wait(timeout=30)
        worker.wait(timeout=60)
    stored_in = ChatMessage.objects.filter(channel=channel, direction="in").count() - before_in
    stored_messages = stored_ticket_messages(channel) - before_messages
    load = os.getloadavg()
    print(
        f"visitors {args.visitors}, a message every {args.every:g} s for {args.seconds:g} s; "
        f"uvicorn processes {args.web_workers}, in flight at most {args.in_flight}"
    )
    print(f"run {elapsed:.1f} s; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"requests {counts}")
    print(
        f"stored: chat rows in {stored_in}, ticket messages {stored_messages}, "
        f"answered 201 {counts['stored']} -> "
        + ("every message stored once" if stored_in == counts["stored"] else "MISMATCH")
    )
    latencies, of_firsts, of_others = latencies
    if latencies:
        print(
            f"send -> agent's live stream: p50 {statistics.median(latencies) * 1000:.0f} ms, "
            f"p95 {percentile(latencies, 0.95) * 1000:.0f} ms, "
            f"max {max(latencies) * 1000:.0f} ms ({len(latencies)} heard, {unheard} not heard)"
        )
    for label, values in (("first messages", of_firsts), ("later messages", of_others)):
        if values:
            print(
                f"  {label}: p50 {statistics.median(values) * 1000:.0f} ms, "
                f"p95 {percentile(values, 0.95) * 1000:.0f} ms ({len(values)})"
            )
    messages = max(counts["stored"], 1)
    per_server, per_worker = cpu_server / messages * 1000, cpu_worker / messages * 1000
    print(
        f"CPU: server {cpu_server:.1f} s, worker {cpu_worker:.1f} s; per message "
        f"{per_server:.1f} ms server + {per_worker:.1f} ms worker"
    )
    if database_before and database_after:
        print(database_after.since(database_before))


if __name__ == "__main__":
    main()
