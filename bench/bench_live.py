"""Benchmark the live updates: N browsers on one ASGI server, events published at a rate.

Usage, from the repository root::

    createdb -h 127.0.0.1 -U postgres helpdesk_bench_live
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench_live \\
        .venv/bin/python bench/bench_live.py [--clients 200] [--rate 5] [--seconds 30] \\
        [--backend database|redis|both] [--redis redis://127.0.0.1:6379/6]

Without DATABASE_URL it uses SQLite in var/bench_live.sqlite3. The database name must contain
"bench"; the script migrates it and adds one agent and one pool (kept between runs).

It starts uvicorn in its own process (as `make run` does), opens N server-sent-event
streams to /live/stream/ as that agent (asyncio sockets in this process), then publishes
``--rate`` events a second on the agent's pool topic from this process (another OS process
than the server: the path a Celery worker's event takes). Every event reaches every browser.
It prints, per backend: delivery latency from publish to a browser reading it (p50, p95,
max), deliveries received of those expected, the server's CPU while publishing (per cent
of one core, and ms per event), its threads, and the database connections it holds.
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench_live.sqlite3'}")

# This process's few ORM calls between the asyncio steps never run concurrently.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from live.publish import publish  # noqa: E402
from people.services import create_agent  # noqa: E402
from tickets.models import Pool, PoolMembership  # noqa: E402

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def setup() -> tuple[int, str]:
    """The bench agent's pool id and a signed-in session key."""
    name = str(connection.settings_dict["NAME"])
    if "bench" not in name:
        sys.exit(f"refusing to run on {name!r}: the database name must contain 'bench'")
    call_command("migrate", verbosity=0)
    pool, _ = Pool.objects.get_or_create(name="Live bench")
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username="live-bench").first()
    if user is None:
        user = create_agent(username="live-bench", password=None, email="live-bench@bench.test")
        PoolMembership.objects.create(pool=pool, user=user)
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return pool.pk, session.session_key


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, env: dict, *, workers: int = 1) -> subprocess.Popen:
    """uvicorn as ``make run`` starts it (one process), or with ``workers`` processes as the
    docker-compose ``web`` service does."""
    server = subprocess.Popen(  # noqa: S603
        [
            str(Path(sys.executable).parent / "uvicorn"),
            "helpdesk.asgi:application",
            "--host=127.0.0.1",
            f"--port={port}",
            "--lifespan=off",
            "--log-level=warning",
            "--no-access-log",
            "--timeout-graceful-shutdown=2",
            *([f"--workers={workers}"] if workers > 1 else []),
        ],
        cwd=ROOT,
        env=env,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5):
                return server
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                sys.exit("uvicorn did not start")
            time.sleep(0.3)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    return 0


def database_connections() -> int | None:
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


async def browser(port: int, session_key: str, latencies: list, opened: asyncio.Event, stop):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        (
            "GET /live/stream/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
            f"Cookie: sessionid={session_key}\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    status = await reader.readline()
    if b" 200 " not in status:
        raise RuntimeError(f"stream refused: {status!r}")
    try:
        while not stop.is_set():
            line = await reader.readline()
            if not line:
                return
            if line.startswith(b": connected"):
                opened.set()
            elif line.startswith(b"data: "):
                received = time.time()
                message = json.loads(line[6:])
                latencies.append(received - message["data"]["sent_at"])
    finally:
        writer.close()


def publish_at_rate(topic: str, rate: float, seconds: float) -> int:
    count = int(rate * seconds)
    start = time.monotonic()
    for number in range(count):
        delay = start + number / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        publish(topic, "bench.event", {"n": number, "sent_at": time.time()})
    return count


async def measure(args, backend: str, pool_id: int, session_key: str) -> None:
    redis_url = args.redis if backend == "redis" else ""
    channel = f"helpdesk-bench:live:{os.getpid()}"
    settings.LIVE_REDIS_URL, settings.LIVE_REDIS_CHANNEL = redis_url, channel
    env = {**os.environ, "LIVE_REDIS_URL": redis_url, "LIVE_REDIS_CHANNEL": channel}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE")
    port = free_port()
    connections_before = database_connections()
    server = start_server(port, env)
    stop = asyncio.Event()
    latencies: list[float] = []
    try:
        tasks, openings = [], []
        started = time.monotonic()
        for index in range(args.clients):
            opened = asyncio.Event()
            openings.append(opened)
            tasks.append(asyncio.create_task(browser(port, session_key, latencies, opened, stop)))
            if index % 20 == 19:
                await asyncio.gather(*(event.wait() for event in openings))
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in openings)), timeout=120)
        opening = time.monotonic() - started
        await asyncio.sleep(1)
        connections_open = database_connections()
        threads_open = threads(server.pid)
        cpu_before, wall_before = cpu_seconds(server.pid), time.monotonic()
        sent = await asyncio.to_thread(publish_at_rate, f"pool:{pool_id}", args.rate, args.seconds)
        await asyncio.sleep(2)  # the last events in flight
        cpu = cpu_seconds(server.pid) - cpu_before
        wall = time.monotonic() - wall_before
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    expected = sent * args.clients
    ms = sorted(latency * 1000 for latency in latencies)
    print(f"\n== {backend} backend ({connection.vendor}), {args.clients} browsers ==")
    print(f"opened {args.clients} streams in {opening:.1f} s; server threads: {threads_open}")
    if connections_open is not None:
        held = max(0, connections_open - connections_before)
        print(f"database connections held by the server: {held}")
    print(f"events published: {sent} ({args.rate}/s for {args.seconds} s)")
    print(f"deliveries: {len(ms)} of {expected} ({len(ms) / expected:.1%})")
    if ms:
        p95 = ms[int(len(ms) * 0.95) - 1]
        print(f"latency ms: p50 {statistics.median(ms):.0f}  p95 {p95:.0f}  max {ms[-1]:.0f}")
    print(
        f"server CPU: {cpu:.2f} s in {wall:.1f} s = {cpu / wall:.0%} of one core; "
        f"{cpu / sent * 1000:.1f} ms per event, {cpu / max(expected, 1) * 1e6:.0f} µs per delivery"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="events per second")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--backend", choices=["database", "redis", "both"], default="both")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/6")
    args = parser.parse_args()
    pool_id, session_key = setup()
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    backends = ["database", "redis"] if args.backend == "both" else [args.backend]
    for backend in backends:
        asyncio.run(measure(args, backend, pool_id, session_key))
    print(f"\nload average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
