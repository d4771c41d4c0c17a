"""Benchmark the agent workspace on a large, realistic data set.

Usage, from the repository root::

    createdb -h 127.0.0.1 -U postgres helpdesk_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench \\
        .venv/bin/python bench/bench_workspace.py [--tickets 100000] [--iterations 30] [--reuse]

Without DATABASE_URL it uses SQLite in var/bench.sqlite3 (try ``--tickets 5000``). The
database name must contain "bench": seeding wipes it (``flush``) first. The script runs
``migrate``, seeds N tickets (3 messages and 1-2 history rows each, 8 pools, ~20% waiting,
created over two years) with COPY on PostgreSQL or bulk_create elsewhere, runs ANALYZE, then
prints the median and p95 milliseconds and the SQL query count of the queue pages, the
ticket page and Next ticket. ``--reuse`` skips the seed when the database already holds
exactly N tickets. Each run's Next ticket pulls (iterations + warm-up) waiting tickets.
``--explain`` prints each case's slowest SELECT (with EXPLAIN ANALYZE on PostgreSQL).
"SQL ms" is the median time spent in the database per request, the rest is Python.
"""

import argparse
import gc
import itertools
import math
import os
import random
import statistics
import sys
import time
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}")

import django  # noqa: E402

# whitenoise warns when collectstatic has not run; the pages render the same.
warnings.filterwarnings("ignore", message="No directory at")
django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from people.models import Contact, ContactEmail, Organization, Role  # noqa: E402
from people.services import create_agent  # noqa: E402
from tickets.models import (  # noqa: E402
    ActivityLog,
    Message,
    Pool,
    PoolMembership,
    Product,
    SavedView,
    Tag,
    Ticket,
    TicketSequence,
    Topic,
)
from tickets.services import pull_next_ticket  # noqa: E402
from tickets.states import Channel, Priority, Status  # noqa: E402

POOLS = ["Billing", "Technical support", "Sales", "Fiber", "Cloud PBX", "Mobile", "Portal", "VIP"]
POOL_WEIGHTS = [25, 20, 15, 12, 10, 8, 6, 4]
AGENTS, BATCH, WARMUP = 30, 5000, 5
# Everything that is not waiting (status new, no technician: 20%), by weight.
OTHER_STATUSES = [
    (Status.TAKEN, 4), (Status.IN_PROGRESS, 8), (Status.CONSULTATION, 2),
    (Status.WAITING_CUSTOMER, 6), (Status.RESOLVED, 10), (Status.CLOSED, 45),
    (Status.CANCELLED, 5),
]  # fmt: skip
PRIORITIES = [(Priority.LOW, 15), (Priority.NORMAL, 60), (Priority.HIGH, 20), (Priority.URGENT, 5)]
CHANNELS = [Channel.EMAIL] * 6 + [Channel.PORTAL, Channel.PORTAL, Channel.PHONE, Channel.CHAT]
SUBJECTS = [
    "Invoice charged twice", "Internet down since this morning", "Cannot log in after reset",
    "Quote for 20 extensions", "Wrong amount on my invoice", "Portal shows an error",
    "Fatura em duplicidade", "Nie działa centrala", "Upgrade to a faster plan",
    "Change the billing address", "Phone line is noisy", "Cancel my subscription",
]  # fmt: skip
BODY = (
    "Hello, since yesterday the service has not been working as expected. We restarted the "
    "equipment twice and checked the cables, but nothing changed. Could you please look into "
    "it as soon as possible? Our whole team depends on it. Best regards, "
)


def insert(model, fields, rows):
    """Insert rows (tuples in ``fields`` order, primary key included): COPY or bulk_create."""
    if connection.vendor != "postgresql":
        model.objects.bulk_create(model(**dict(zip(fields, row, strict=True))) for row in rows)
        return
    # Non-null columns left out get the model's default, so a new field needs no change here.
    extra = [f for f in model._meta.concrete_fields if f.attname not in fields and not f.null]
    defaults = tuple(field.get_default() for field in extra)
    columns = [model._meta.get_field(name) for name in fields] + extra
    names = ", ".join(connection.ops.quote_name(field.column) for field in columns)
    sql = f"COPY {model._meta.db_table} ({names}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row((*row, *defaults))


def weighted(pairs):
    values, weights = zip(*pairs, strict=True)
    return list(values), list(itertools.accumulate(weights))


def seed(n: int, rng: random.Random) -> None:
    name = str(connection.settings_dict["NAME"])
    if "bench" not in name:
        sys.exit(f"Refusing to wipe database {name!r}: its name must contain 'bench'.")
    call_command("flush", interactive=False, verbosity=0)
    now = datetime.now(UTC)
    pools = [Pool.objects.create(name=pool) for pool in POOLS]
    topics = [Topic.objects.create(name=f"Topic {i}") for i in range(6)]
    products = [Product.objects.create(name=f"Product {i}") for i in range(4)]
    tags = [Tag.objects.create(name=f"tag-{i}") for i in range(12)]
    orgs = [Organization.objects.create(name=f"Customer company {i}") for i in range(50)]
    members = {pool.pk: [] for pool in pools}
    agents = []
    for i in range(AGENTS):
        agent = create_agent(username=f"bench-agent-{i:02d}", password=None, first_name="Agent")
        # Agent 0 (the one measured) is in 3 pools, the others in 2 or 3.
        for tier, pool in enumerate([pools[(i + 3 * k) % 8] for k in range(3 - i % 2)], 1):
            PoolMembership.objects.create(pool=pool, user=agent, pull_priority=tier)
            members[pool.pk].append(agent)
        agents.append(agent)
    create_agent(username="bench-supervisor", password=None, role=Role.SUPERVISOR)

    contacts = max(20, n // 5)
    for start in range(0, contacts, BATCH):
        ids = range(start + 1, min(start + BATCH, contacts) + 1)
        with transaction.atomic():
            insert(
                Contact,
                ["id", "name", "organization_id", "language", "notes", "created_at"],
                ((i, f"Customer {i}", rng.choice(orgs).pk if i % 3 else None, "", "", now)
                 for i in ids),
            )  # fmt: skip
            insert(
                ContactEmail,
                ["id", "contact_id", "address", "is_primary"],
                ((i, i, f"customer{i}@example.com", True) for i in ids),
            )

    statuses, status_cum = weighted(OTHER_STATUSES)
    priorities, priority_cum = weighted(PRIORITIES)
    pool_ids, pool_cum = [p.pk for p in pools], list(itertools.accumulate(POOL_WEIGHTS))
    names = {a.pk: a.get_full_name() for a in agents}
    tag_through = Ticket.tags.through
    span, origin = timedelta(days=730), now - timedelta(days=730)
    sequence, message_id, activity_id, tag_id = {}, 0, 0, 0
    for start in range(0, n, BATCH):
        tickets, messages, activity, ticket_tags = [], [], [], []
        for pk in range(start + 1, min(start + BATCH, n) + 1):
            created = origin + span * ((pk - 1 + rng.random()) / n)
            sequence[created.year] = sequence.get(created.year, 0) + 1
            number = f"{created.year}-{sequence[created.year]:06d}"
            pool = rng.choices(pool_ids, cum_weights=pool_cum)[0]
            waiting = rng.random() < 0.2
            status = Status.NEW if waiting else rng.choices(statuses, cum_weights=status_cum)[0]
            assignee = None if waiting else rng.choice(members[pool]).pk
            requester = rng.randint(1, contacts)
            answered = created + timedelta(hours=1) if assignee else None
            updated = min(now, created + timedelta(hours=rng.uniform(1, 240)))
            resolved = updated if status in (Status.RESOLVED, Status.CLOSED) else None
            closed = updated if status in (Status.CLOSED, Status.CANCELLED) else None
            tickets.append((
                pk, number, rng.choice(SUBJECTS), requester, pool,
                rng.choice(topics).pk if pk % 4 else None,
                rng.choice(products).pk if pk % 3 else None,
                rng.choices(priorities, cum_weights=priority_cum)[0], status,
                rng.choice(CHANNELS), assignee, created, updated, answered, resolved, closed, 0,
            ))  # fmt: skip
            kinds = ["inbound", "outbound", "note"] if assignee else ["inbound"] * 3
            for k, kind in enumerate(kinds):
                message_id += 1
                author = (None, requester) if kind == "inbound" else (assignee, None)
                html = f"<p>{BODY}{k}</p>" if kind == "inbound" else ""
                messages.append((
                    message_id, pk, kind, *author, f"{BODY}{k}", html,
                    f"<{pk}.{k}@mail.example.com>" if kind == "inbound" else "",
                    created + timedelta(hours=k),
                ))  # fmt: skip
            activity_id += 1
            activity.append((activity_id, pk, None, "created", "", number, "", created))
            if assignee:
                activity_id += 1
                activity.append(
                    (activity_id, pk, assignee, "assigned", "", names[assignee], "", answered)
                )
            if pk % 10 == 0:
                tag_id += 1
                ticket_tags.append((tag_id, pk, rng.choice(tags).pk))
        with transaction.atomic():
            insert(Ticket, [
                "id", "number", "subject", "requester_id", "pool_id", "topic_id", "product_id",
                "priority", "status", "channel", "assignee_id", "created_at", "updated_at",
                "first_response_at", "resolved_at", "closed_at", "reopen_count",
            ], tickets)  # fmt: skip
            insert(Message, [
                "id", "ticket_id", "kind", "author_user_id", "author_contact_id", "body_text",
                "body_html", "message_id", "created_at",
            ], messages)  # fmt: skip
            insert(ActivityLog, [
                "id", "ticket_id", "actor_id", "action", "before", "after", "detail", "created_at",
            ], activity)  # fmt: skip
            insert(tag_through, ["id", "ticket_id", "tag_id"], ticket_tags)
        if (start + BATCH) % 100_000 == 0 or start + BATCH >= n:
            print(f"  {min(start + BATCH, n):,} / {n:,} tickets", flush=True)
    for year, last in sequence.items():
        TicketSequence.objects.update_or_create(year=year, defaults={"last": last})
    models = [Contact, ContactEmail, Ticket, Message, ActivityLog, tag_through]
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


class QueryTimer:
    """Times every statement on the connection, like a production worker would see it.

    An execute wrapper, not CaptureQueriesContext: that one turns on Django's debug cursor
    (SQL formatting, logging), which production does not pay, and rounds each time to 1 ms.
    """

    def __init__(self):
        self.queries: list[tuple[float, str, object]] = []

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((time.perf_counter() - started, sql, params))


def measure(label, call, iterations, explain):
    for _ in range(WARMUP):
        call()
    times, sql_times, counts, slowest = [], [], [], None
    for _ in range(iterations):
        timer = QueryTimer()
        with connection.execute_wrapper(timer):
            started = time.perf_counter()
            call()
            times.append((time.perf_counter() - started) * 1000)
        counts.append(len(timer.queries))
        sql_times.append(sum(seconds for seconds, _, _ in timer.queries) * 1000)
        reads = [q for q in timer.queries if q[1].startswith("SELECT")]
        worst = max(reads, key=lambda q: q[0], default=None)
        if worst and (slowest is None or worst[0] > slowest[0]):
            slowest = worst
    times.sort()
    p95 = times[math.ceil(0.95 * len(times)) - 1]
    count = str(counts[0]) if min(counts) == max(counts) else f"{min(counts)}-{max(counts)}"
    print(
        f"{label:<46} {statistics.median(times):>9.1f} {p95:>8.1f}"
        f" {statistics.median(sql_times):>7.1f} {count:>7}",
        flush=True,
    )
    if explain and slowest:
        seconds, sql, params = slowest
        print(f"  slowest SELECT ({seconds * 1000:.1f} ms): {sql} {params}")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                print("\n".join("    " + row[0] for row in cursor.fetchall()), "\n")


def page(client, url):
    def call():
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)

    return call


BUSY = 5_000  # tickets of one requester (a company's shared address, a robot)


def busy_requester(pool_ids) -> tuple[int, str]:
    """Contact 1 as the requester of the first BUSY tickets (every pool; set once), and the
    number of one of them in the agent's pools: the requester card and the contact page
    must cost the same queries for them as for anyone."""
    first = list(Ticket.objects.order_by("pk").values_list("pk", flat=True)[:BUSY])
    if Ticket.objects.filter(pk__in=first).exclude(requester_id=1).update(requester_id=1):
        with connection.cursor() as cursor:
            cursor.execute(
                "ANALYZE" if connection.vendor != "postgresql" else "ANALYZE tickets_ticket"
            )
    number = (
        Ticket.objects.filter(requester_id=1, pool_id__in=pool_ids)
        .values_list("number", flat=True)
        .first()
    )
    assert number is not None, "the busy requester has no ticket in the agent's pools"
    return 1, number


def run(args) -> None:
    User = get_user_model()  # noqa: N806
    agent = User.objects.get(username="bench-agent-00")
    supervisor = User.objects.get(username="bench-supervisor")
    agent_client, supervisor_client = Client(), Client()
    agent_client.force_login(agent)
    supervisor_client.force_login(supervisor)
    # The first cases run without saved-view tabs (saved_view_cases adds them).
    SavedView.objects.filter(owner__in=[agent, supervisor]).delete()
    pool_ids = list(PoolMembership.objects.filter(user=agent).values_list("pool_id", flat=True))
    rng = random.Random(args.seed)
    sample = rng.sample(range(1, args.tickets + 1), min(args.tickets, 400))
    numbers = list(
        Ticket.objects.filter(pk__in=sample, pool_id__in=pool_ids).values_list("number", flat=True)
    )
    queue = reverse("tickets:queue")
    filters = f"status=in_progress&status=waiting_customer&pool={pool_ids[0]}&priority=30"

    def ticket_page():
        number = numbers[rng.randrange(len(numbers))]
        response = agent_client.get(reverse("tickets:detail", args=[number]))
        assert response.status_code == 200, number

    def next_ticket():
        assert pull_next_ticket(agent=agent) is not None, "nothing left to pull"

    busy, busy_number = busy_requester(pool_ids)
    contact_search = reverse("tickets:contact_search")

    cases = [
        ("queue: agent, mine tab", page(agent_client, queue)),
        ("queue: agent, waiting tab", page(agent_client, f"{queue}?tab=waiting")),
        ("queue: agent, mine, status+pool+priority", page(agent_client, f"{queue}?{filters}")),
        ("queue: agent, waiting, pool+priority",
         page(agent_client, f"{queue}?tab=waiting&pool={pool_ids[0]}&priority=30")),
        ("queue: supervisor, all tab", page(supervisor_client, f"{queue}?tab=all")),
        ("queue: supervisor, all, status+pool+priority",
         page(supervisor_client, f"{queue}?tab=all&{filters}")),
        ("queue: supervisor, all, page 40", page(supervisor_client, f"{queue}?tab=all&page=40")),
        ("queue: supervisor, all, search 'invoice'",
         page(supervisor_client, f"{queue}?tab=all&q=invoice")),
        ("queue: supervisor, all, search, no match",
         page(supervisor_client, f"{queue}?tab=all&q=printer")),
        ("ticket page (agent)", ticket_page),
        (f"ticket page, requester of {BUSY:,} tickets",
         page(agent_client, reverse("tickets:detail", args=[busy_number]))),
        (f"contact page, {BUSY:,} tickets (agent)",
         page(agent_client, reverse("tickets:contact", args=[busy]))),
        ("contact search 'customer1234' (agent)",
         page(agent_client, f"{contact_search}?q=customer1234")),
        ("Next ticket: pull_next_ticket() (agent)", next_ticket),
    ]  # fmt: skip
    cases = [(label, call) for label, call in cases if args.only in label]
    # What a web worker does once started (helpdesk/wsgi.py): everything loaded so far
    # (Django, the apps, the URL conf) leaves the garbage collector's generations, so a
    # full collection no longer walks it in the middle of a request.
    gc.collect()
    gc.freeze()
    print(f"{'case':<46} {'median ms':>9} {'p95 ms':>8} {'SQL ms':>7} {'queries':>7}")
    for label, call in cases:
        measure(label, call, args.iterations, args.explain)
    for label, call in saved_view_cases(agent, supervisor, agent_client, pool_ids):
        if args.only in label:
            measure(label, call, args.iterations, args.explain)
    print("\nload average (1, 5, 15 min) at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


def saved_view_cases(agent, supervisor, agent_client, pool_ids):
    """The queue again with ten saved-view tabs (eight of the agent's, two shared), each
    counted: their counts cost one query together. Measured after the other cases, which
    ran without tabs."""
    SavedView.objects.filter(owner__in=[agent, supervisor]).delete()
    queries = [
        "tab=waiting",
        "tab=mine",
        "tab=watched",
        "priority=30&tab=waiting",
        f"pool={pool_ids[0]}&tab=waiting",
        "status=in_progress&status=waiting_customer&tab=mine",
        "priority=40&tab=mine",
        "channel=phone&tab=waiting",
    ]
    for position, query in enumerate(queries):
        SavedView.objects.create(
            name=f"View {position}", owner=agent, query=query, position=position
        )
    for query in ("status=new&tab=all", "priority=40&status=in_progress&tab=all"):
        SavedView.objects.create(name=query, owner=supervisor, query=query, shared=True)
    queue = reverse("tickets:queue")
    return [
        ("queue: agent, mine tab, 10 saved views", page(agent_client, queue)),
        ("queue: agent, waiting tab, 10 saved views", page(agent_client, f"{queue}?tab=waiting")),
    ]


def arguments(description: str, *, iterations: int) -> argparse.Namespace:
    """The options every page benchmark takes (this one and bench_reports.py)."""
    parser = argparse.ArgumentParser(description=description.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--iterations", type=int, default=iterations)
    parser.add_argument("--reuse", action="store_true", help="keep a database of N tickets")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN each case's slowest read")
    parser.add_argument("--only", default="", help="run only the cases whose label has this")
    parser.add_argument(
        "--profile", action="store_true", help="where the time goes, by cProfile (bench_api.py)"
    )
    return parser.parse_args()


def main() -> None:
    args = arguments(__doc__ or "", iterations=30)
    call_command("migrate", interactive=False, verbosity=0)
    present = Ticket.objects.count()
    seeded = get_user_model().objects.filter(username="bench-agent-00").exists()
    if args.reuse and present == args.tickets and seeded:
        print(f"Reusing {present:,} tickets.")
    else:
        started = time.perf_counter()
        seed(args.tickets, random.Random(args.seed))
        print(f"Seeded {args.tickets:,} tickets in {time.perf_counter() - started:.0f} s.")
    with connection.cursor() as cursor:
        pg = connection.vendor == "postgresql"
        cursor.execute("SHOW server_version" if pg else "SELECT sqlite_version()")
        version = cursor.fetchone()[0]
    print(
        f"\n{connection.vendor} {version}, {Ticket.objects.count():,} tickets, "
        f"{Message.objects.count():,} messages, {args.iterations} timed runs after {WARMUP} "
        f"warm-up, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average "
        "{:.2f} {:.2f} {:.2f}\n".format(*os.getloadavg())
    )
    run(args)


if __name__ == "__main__":
    main()
