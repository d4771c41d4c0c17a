"""Benchmark the REST API's ticket list and ticket read on a large data set.

Usage, from the repository root::

    createdb -h 127.0.0.1 -U postgres hd_api_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_api_bench \\
        .venv/bin/python bench/bench_api.py [--tickets 1000000] [--iterations 30] [--reuse]

Seeds the data set of ``bench_workspace.py`` (the same options; the database name must
contain "bench": seeding wipes it), makes API tokens for one agent (no pool limit: their 3
pools) and for the supervisor (limited to 2 pools, and one unlimited), then prints the median
and p95 milliseconds, the SQL time and the query count of API calls made through DRF's test
client with ``Authorization: Bearer`` (all in ms: wall median and p95, this process's CPU
median, SQL as the client waits for it, and the database's own planning + execution time
of the SELECTs from EXPLAIN ANALYZE): list pages of 25 and of 100 (the query count must be the
same), filtered, searched, a page 40 deep by cursor, and the ticket read. The token's last use
is written at most once a minute, so one run in many may count one more query.
"""

import cProfile
import importlib
import math
import os
import pstats
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# The benchmark times requests, not the rate limit: a rate nobody reaches (still counted).
os.environ.setdefault("API_RATE_LIMIT", "1000000/second")

# Sets Django up (and its database default) before the imports below.
workspace = importlib.import_module("bench.bench_workspace")

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from api.models import ApiToken  # noqa: E402
from api.services import create_token  # noqa: E402
from tickets.models import Message, Pool, PoolMembership, Ticket  # noqa: E402

LIST = "/api/v1/tickets/"


def server_ms(call) -> float | None:
    """What PostgreSQL itself spends on one call's SELECTs (planning + execution, from
    EXPLAIN ANALYZE): the part of the SQL time that is not round trips or waiting for a
    CPU on a busy machine. None elsewhere."""
    if connection.vendor != "postgresql":
        return None
    timer = workspace.QueryTimer()
    with connection.execute_wrapper(timer):
        call()
    total = 0.0
    with connection.cursor() as cursor:
        for _seconds, sql, params in timer.queries:
            if not sql.startswith("SELECT"):
                continue
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0][0]
            total += plan["Planning Time"] + plan["Execution Time"]
    return total


def measure(label, call, iterations) -> None:
    """Median and p95 wall time, the median CPU time of this process (the Python part,
    which a busy machine inflates far less than wall time), SQL time, queries, and the
    database's own time (``server_ms``)."""
    for _ in range(workspace.WARMUP):
        call()
    walls, cpus, sqls, counts = [], [], [], []
    for _ in range(iterations):
        timer = workspace.QueryTimer()
        with connection.execute_wrapper(timer):
            started, cpu = time.perf_counter(), time.process_time()
            call()
            walls.append((time.perf_counter() - started) * 1000)
            cpus.append((time.process_time() - cpu) * 1000)
        counts.append(len(timer.queries))
        sqls.append(sum(seconds for seconds, _sql, _params in timer.queries) * 1000)
    walls.sort()
    p95 = walls[math.ceil(0.95 * len(walls)) - 1]
    count = str(counts[0]) if min(counts) == max(counts) else f"{min(counts)}-{max(counts)}"
    server = server_ms(call)
    print(
        f"{label:<42} {statistics.median(walls):>7.1f} {p95:>7.1f} {statistics.median(cpus):>7.1f}"
        f" {statistics.median(sqls):>7.1f} {'' if server is None else f'{server:.1f}':>7}"
        f" {count:>7}",
        flush=True,
    )


# What a profile is broken down into: (label, file ending, function name). Cumulative
# times, so "SQL compiled" and "database round trips" are parts of the others.
PROFILE_PARTS = [
    ("token lookup (authentication)", "api/authentication.py", "authenticate"),
    ("rate limit (throttle)", "api/throttling.py", "allow_request"),
    ("ORM: SQL compiled", "django/db/models/sql/compiler.py", "as_sql"),
    ("database round trips (driver CPU)", "psycopg/cursor.py", "execute"),
    ("rows to dicts (list)", "api/serializers.py", "ticket_rows"),
    ("ticket with its thread (read)", "api/detail.py", "ticket_detail"),
    ("DRF serializers", "rest_framework/serializers.py", "data"),
    ("JSON rendering", "rest_framework/renderers.py", "render"),
]


def profile(label, call, iterations) -> None:
    """Where one request's CPU time goes in this process (cProfile timed by CPU, not by
    the wall clock, which a loaded machine inflates with waiting for a core), per request:
    the whole call and the parts above (cumulative: a part's SQL compilation and round
    trips are in it too). A round trip's CPU is the driver's (sending, converting rows):
    the wait for the database is not CPU. The rest is middleware, URL resolving, DRF's
    dispatch and the test client. cProfile itself slows Python down, ~1.5-2x."""
    for _ in range(workspace.WARMUP):
        call()
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(iterations):
        call()
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = max(row[3] for row in stats.values())
    parts = {name: 0.0 for name, _file, _function in PROFILE_PARTS}
    for (filename, _line, function), (_cc, _nc, _tt, cumulative, _callers) in stats.items():
        for name, ending, wanted in PROFILE_PARTS:
            if function == wanted and filename.endswith(ending):
                parts[name] += cumulative
    per = 1000 / iterations
    print(f"{label}: {total * per:.1f} ms of CPU a request under cProfile, of which")
    for name, seconds in parts.items():
        if seconds:
            print(f"    {name:<34} {seconds * per:>6.1f} ms")  # fmt: skip


def client_for(owner, *, pools=(), name: str) -> APIClient:
    ApiToken.objects.filter(owner=owner, name=name).delete()
    _token, secret = create_token(owner=owner, name=name, scope="read", pools=pools, actor=owner)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def get(client, url, *, rows=None):
    def call():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])
        if rows is not None:
            assert len(response.json()["results"]) == rows, url

    return call


def deep_cursor(client, url: str, pages: int) -> str:
    """The URL of page ``pages`` (walked once, as a client following ``next`` would)."""
    for _ in range(pages - 1):
        url = client.get(url).json()["next"]
    return url


def run(args) -> None:
    users = get_user_model().objects
    agent = users.get(username="bench-agent-00")
    supervisor = users.get(username="bench-supervisor")
    agent_pools = list(PoolMembership.objects.filter(user=agent).values_list("pool_id", flat=True))
    two_pools = list(Pool.objects.order_by("pk")[:2])
    agent_api = client_for(agent, name="bench agent")
    scoped_api = client_for(supervisor, pools=two_pools, name="bench scoped")
    supervisor_api = client_for(supervisor, name="bench supervisor")
    rng = random.Random(args.seed)
    sample = rng.sample(range(1, args.tickets + 1), min(args.tickets, 400))
    numbers = list(
        Ticket.objects.filter(pk__in=sample, pool_id__in=agent_pools).values_list(
            "number", flat=True
        )
    )
    filters = f"status=in_progress&status=waiting_customer&pool={agent_pools[0]}&priority=30"

    def ticket_read():
        number = numbers[rng.randrange(len(numbers))]
        response = agent_api.get(f"{LIST}{number}/")
        assert response.status_code == 200, number

    deep = deep_cursor(supervisor_api, f"{LIST}?limit=25", 40)
    cases = [
        ("list: agent, 25 a page", get(agent_api, LIST, rows=25)),
        ("list: agent, 100 a page", get(agent_api, f"{LIST}?limit=100", rows=100)),
        ("list: agent, status+pool+priority", get(agent_api, f"{LIST}?{filters}")),
        ("list: agent, sorted by last change", get(agent_api, f"{LIST}?ordering=-updated")),
        ("list: supervisor, 25 a page", get(supervisor_api, LIST, rows=25)),
        ("list: supervisor, page 40 by cursor", get(supervisor_api, deep, rows=25)),
        ("list: token of 2 pools, 25 a page", get(scoped_api, LIST, rows=25)),
        ("list: token of 2 pools, 100 a page", get(scoped_api, f"{LIST}?limit=100", rows=100)),
        ("list: supervisor, search 'invoice'", get(supervisor_api, f"{LIST}?q=invoice")),
        ("list: agent, created in one month",
         get(agent_api, f"{LIST}?created_after=2026-01-01&created_before=2026-01-31")),
        ("read: agent, one ticket with its thread", ticket_read),
    ]  # fmt: skip
    cases = [(label, call) for label, call in cases if args.only in label]
    workspace.gc.collect()
    workspace.gc.freeze()
    print(
        f"{'case':<42} {'median':>7} {'p95':>7} {'CPU':>7} {'SQL':>7} {'server':>7} {'queries':>7}"
    )
    for label, call in cases:
        if args.profile:
            profile(label, call, args.iterations)
        elif args.explain:
            workspace.measure(label, call, args.iterations, args.explain)
        else:
            measure(label, call, args.iterations)
    print("\nload average (1, 5, 15 min) at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


def main() -> None:
    args = workspace.arguments(__doc__ or "", iterations=30)
    call_command("migrate", interactive=False, verbosity=0)
    present = Ticket.objects.count()
    seeded = get_user_model().objects.filter(username="bench-agent-00").exists()
    if args.reuse and present == args.tickets and seeded:
        print(f"Reusing {present:,} tickets.")
    else:
        started = time.perf_counter()
        workspace.seed(args.tickets, random.Random(args.seed))
        print(f"Seeded {args.tickets:,} tickets in {time.perf_counter() - started:.0f} s.")
    with connection.cursor() as cursor:
        pg = connection.vendor == "postgresql"
        cursor.execute("SHOW server_version" if pg else "SELECT sqlite_version()")
        version = cursor.fetchone()[0]
    print(
        f"\n{connection.vendor} {version}, {Ticket.objects.count():,} tickets, "
        f"{Message.objects.count():,} messages, {args.iterations} timed runs after "
        f"{workspace.WARMUP} warm-up, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average "
        "{:.2f} {:.2f} {:.2f}\n".format(*os.getloadavg())
    )
    run(args)


if __name__ == "__main__":
    main()
