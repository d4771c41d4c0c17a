"""Benchmark the SLA sweep and the overdue dashboard over a million open tickets.

Usage, from the repository root::

    createdb -h 127.0.0.1 -U postgres helpdesk_bench_sla
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench_sla \\
        .venv/bin/python bench/bench_sla.py [--tickets 1000000] [--iterations 20] [--reuse]

Without DATABASE_URL it uses SQLite in var/bench_sla.sqlite3 (try ``--tickets 20000``). The
database name must contain "bench": seeding wipes it (``flush``) first. Seeds N open
tickets (COPY on PostgreSQL, with bench_workspace's ``insert`` helper), each with a running
first-response and resolution deadline due in the next month, plus a steady state of
already-handled work: ``--overdue`` deadlines past due (reminded and escalated) and as many
due within the hour (reminded). Then it times:

* the sweep when nothing is due (target: under 1 s);
* the sweep with K reminders, then K escalations due (target: linear in K);
* the overdue dashboard pages (target: under 100 ms median).
"""

import argparse
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
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench_sla.sqlite3'}")
# Mail the sweep queues is handed to Celery: an in-memory broker keeps it off the disk.
os.environ.setdefault("CELERY_BROKER_URL", "memory://")

import django  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.core.management.color import no_style  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench.bench_workspace import POOLS, PRIORITIES, SUBJECTS, insert, measure, weighted  # noqa: E402
from mailboxes.models import OutgoingEmail  # noqa: E402
from people.models import Role  # noqa: E402
from people.services import create_agent  # noqa: E402
from sla.models import BusinessCalendar, Deadline, SlaPolicy, Target, WorkingInterval  # noqa: E402
from sla.services import sweep_deadlines  # noqa: E402
from tickets.models import Pool, PoolMembership, Ticket, TicketSequence  # noqa: E402
from tickets.states import Status  # noqa: E402

AGENTS, BATCH = 30, 10_000
OPEN = [(Status.NEW, 40), (Status.TAKEN, 15), (Status.IN_PROGRESS, 35), (Status.CONSULTATION, 10)]
HOUR = 3600


def _policy() -> SlaPolicy:
    calendar = BusinessCalendar.objects.create(
        name="São Paulo", time_zone="America/Sao_Paulo", holiday_country="BR"
    )
    WorkingInterval.objects.bulk_create(
        WorkingInterval(calendar=calendar, weekday=day, start=start, end=end)
        for day in range(5)
        for start, end in (("08:00", "12:00"), ("13:00", "18:00"))
    )
    return SlaPolicy.objects.create(
        name="Standard", calendar=calendar, first_response_minutes=240,
        resolution_minutes=2700, reminder_before=20, reminder_unit="percent",
    )  # fmt: skip


def seed(n: int, overdue: int, rng: random.Random) -> None:
    name = str(connection.settings_dict["NAME"])
    if "bench" not in name:
        sys.exit(f"Refusing to wipe database {name!r}: its name must contain 'bench'.")
    call_command("flush", interactive=False, verbosity=0)
    now = datetime.now(UTC)
    pools = [Pool.objects.create(name=pool) for pool in POOLS]
    members: dict[int, list[int]] = {pool.pk: [] for pool in pools}
    for i in range(AGENTS):
        agent = create_agent(
            username=f"bench-agent-{i:02d}", password=None, first_name="Agent",
            email=f"agent{i}@helpdesk.test",
        )  # fmt: skip
        for pool in (pools[i % 8], pools[(i + 3) % 8]):
            PoolMembership.objects.create(pool=pool, user=agent)
            members[pool.pk].append(agent.pk)
    create_agent(
        username="bench-supervisor", password=None, role=Role.SUPERVISOR,
        email="supervisor@helpdesk.test",
    )  # fmt: skip
    policy = _policy()
    statuses, status_cum = weighted(OPEN)
    priorities, priority_cum = weighted(PRIORITIES)
    deadline_id = 0
    for start in range(0, n, BATCH):
        tickets, deadlines = [], []
        for pk in range(start + 1, min(start + BATCH, n) + 1):
            created = now - timedelta(minutes=rng.randint(1, 600))
            pool = pools[pk % 8].pk
            status = rng.choices(statuses, cum_weights=status_cum)[0]
            assignee = None if status == Status.NEW else rng.choice(members[pool])
            # The steady state: most deadlines far ahead; the first `overdue` tickets past
            # due (already reminded and escalated), the next ones due within the hour.
            if pk <= overdue:
                due, reminded, breached = now - timedelta(minutes=rng.randint(1, 3000)), now, now
            elif pk <= 2 * overdue:
                due, reminded, breached = now + timedelta(minutes=rng.randint(1, 59)), now, None
            else:
                due, reminded, breached = now + timedelta(hours=rng.uniform(2, 700)), None, None
            remind = due - timedelta(minutes=48)
            tickets.append((
                pk, f"{now.year}-{pk:07d}", rng.choice(SUBJECTS), pool,
                rng.choices(priorities, cum_weights=priority_cum)[0], status, assignee,
                created, created, due,
            ))  # fmt: skip
            for target, due_at, remind_at in (
                (Target.FIRST_RESPONSE, due, remind),
                (Target.RESOLUTION, due + timedelta(days=3), remind + timedelta(days=3)),
            ):
                deadline_id += 1
                first = target == Target.FIRST_RESPONSE
                deadlines.append((
                    deadline_id, pk, pool, target, policy.pk, "running", 4 * HOUR, 0, created,
                    created, due_at, remind_at, reminded if first else None,
                    breached if first else None,
                ))  # fmt: skip
        with transaction.atomic():
            insert(Ticket, [
                "id", "number", "subject", "pool_id", "priority", "status", "assignee_id",
                "created_at", "updated_at", "due_at",
            ], tickets)  # fmt: skip
            insert(Deadline, [
                "id", "ticket_id", "pool_id", "target", "policy_id", "state", "budget_seconds",
                "consumed_seconds", "started_at", "running_since", "due_at", "remind_at",
                "reminded_at", "breached_at",
            ], deadlines)  # fmt: skip
        if (start + BATCH) % 200_000 == 0 or start + BATCH >= n:
            print(f"  {min(start + BATCH, n):,} / {n:,} tickets", flush=True)
    TicketSequence.objects.update_or_create(year=now.year, defaults={"last": n})
    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), [Ticket, Deadline]):
            cursor.execute(sql)
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def settle(overdue: int) -> None:
    """Back to the steady state: seeding (or an earlier run) took minutes, so re-arm the
    due-soon tickets for the coming hour and push far-ahead deadlines made due back out."""
    now = datetime.now(UTC)
    soon = list(
        Deadline.objects.filter(
            ticket_id__gt=overdue, ticket_id__lte=2 * overdue, target=Target.FIRST_RESPONSE
        ).order_by("pk")
    )
    for i, deadline in enumerate(soon):
        deadline.due_at = now + timedelta(minutes=5 + i % 55)
        deadline.remind_at, deadline.reminded_at = deadline.due_at - timedelta(minutes=48), now
        deadline.breached_at = None
    Deadline.objects.bulk_update(soon, ["due_at", "remind_at", "reminded_at", "breached_at"], 1000)
    far = Deadline.objects.filter(ticket_id__gt=2 * overdue)
    made_due = far.filter(Q(remind_at__lte=now) | Q(due_at__lte=now))
    made_due.update(due_at=now + timedelta(days=10), remind_at=now + timedelta(days=9))
    far.filter(Q(reminded_at__isnull=False) | Q(breached_at__isnull=False)).update(
        reminded_at=None, breached_at=None
    )


def time_sweep(label: str, iterations: int) -> None:
    times = []
    for _ in range(iterations):
        started = time.perf_counter()
        result = sweep_deadlines()
        times.append((time.perf_counter() - started) * 1000)
        assert (result.reminders, result.escalations) == (0, 0), result
    print(f"{label:<52} {statistics.median(times):>9.1f} {max(times):>9.1f}")


def make_due(k: int, field: str, rng: random.Random) -> list[int]:
    """Put ``k`` far-ahead first-response deadlines past their reminder point or due time."""
    past = datetime.now(UTC) - timedelta(minutes=1)
    candidates = Deadline.objects.filter(
        target=Target.FIRST_RESPONSE, reminded_at__isnull=True, breached_at__isnull=True
    ).values_list("pk", flat=True)[: 20 * k]
    ids = rng.sample(list(candidates), k)
    Deadline.objects.filter(pk__in=ids).update(**{field: past})
    return ids


def time_due_sweeps(sizes: list[int], rng: random.Random) -> None:
    for field, kind in (("remind_at", "reminders"), ("due_at", "escalations")):
        for k in sizes:
            make_due(k, field, rng)
            mails = OutgoingEmail.objects.count()
            started = time.perf_counter()
            result = sweep_deadlines()
            elapsed = (time.perf_counter() - started) * 1000
            done = getattr(result, kind)
            assert done == k, (kind, done, k)
            sent = OutgoingEmail.objects.count() - mails
            print(
                f"{f'sweep with {k:,} {kind} due':<52} {elapsed:>9.1f} {elapsed / k:>9.2f}"
                f"  ({sent:,} mails queued)"
            )


def time_dashboard(iterations: int, explain: bool) -> None:
    client = Client()
    client.force_login(get_supervisor())
    url = reverse("sla:overdue")
    pool = Pool.objects.order_by("pk").first()
    agent = PoolMembership.objects.filter(pool=pool).values_list("user_id", flat=True).first()

    def page(params, headers=None):
        def call():
            response = client.get(url, params, headers=headers or {})
            assert response.status_code == 200, response.status_code

        return call

    cases = [
        ("dashboard: all, by time left", page({})),
        ("dashboard: htmx refresh (board only)", page({}, {"HX-Request": "true"})),
        ("dashboard: pool filter", page({"pool": pool.pk})),
        ("dashboard: agent filter", page({"agent": agent})),
        ("dashboard: target resolution", page({"target": "resolution"})),
        ("dashboard: most time left first", page({"ordering": "-due"})),
        ("dashboard: page 20", page({"page": 20})),
    ]
    print(f"\n{'case':<46} {'median ms':>9} {'p95 ms':>8} {'SQL ms':>7} {'queries':>7}")
    for label, call in cases:
        measure(label, call, iterations, explain)


def get_supervisor():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="bench-supervisor")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--overdue", type=int, default=3000, help="overdue (and due-soon) tickets")
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--due", default="10,100,1000", help="K values for the due sweeps")
    parser.add_argument("--reuse", action="store_true", help="keep a database of N tickets")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--explain", action="store_true", help="EXPLAIN each case's slowest read")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    call_command("migrate", interactive=False, verbosity=0)
    if args.reuse and Ticket.objects.count() == args.tickets:
        print(f"Reusing {args.tickets:,} tickets.")
    else:
        started = time.perf_counter()
        seed(args.tickets, args.overdue, rng)
        print(f"Seeded {args.tickets:,} tickets in {time.perf_counter() - started:.0f} s.")
    settle(args.overdue)
    with connection.cursor() as cursor:
        pg = connection.vendor == "postgresql"
        cursor.execute("SHOW server_version" if pg else "SELECT sqlite_version()")
        version = cursor.fetchone()[0]
    running = Deadline.objects.filter(state="running").count()
    print(
        f"\n{connection.vendor} {version}, {Ticket.objects.count():,} open tickets, "
        f"{running:,} running deadlines, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
    )
    print(f"{'case':<52} {'median ms':>9} {'max ms':>9}")
    time_sweep("sweep, nothing due", args.iterations)
    print(f"\n{'case':<52} {'ms':>9} {'ms/row':>9}")
    time_due_sweeps([int(k) for k in args.due.split(",")], rng)
    time_dashboard(args.iterations, args.explain)


if __name__ == "__main__":
    main()
