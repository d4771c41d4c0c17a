"""Benchmark webhooks: the cost of recording deliveries on ingest, and sends per second.

Usage, from the repository root::

    createdb -h 127.0.0.1 -U postgres hd_webhooks_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_webhooks_bench \\
        .venv/bin/python bench/bench_webhooks.py [--tickets 10000] [--batch 100] \\
        [--endpoints 2] [--sends 2000] [--workers 2] [--broker redis://127.0.0.1:6379/11]

Without DATABASE_URL it uses SQLite in var/bench_webhooks.sqlite3. The database name must
contain "bench": it is flushed first. Three figures:

1. **Ingest overhead**: ``--tickets`` new tickets arrive through the intake service
   (``receive_customer_messages``) in batches of ``--batch``, as mail processing runs them,
   with the events' receivers run after each commit as in a worker; once with no webhook,
   once with ``--endpoints`` endpoints subscribed to "ticket created" and "customer
   message". Prints ms per batch (median), queries per batch, and deliveries created/s.
2. **Sends in one process**: ``--sends`` deliveries claimed, signed and POSTed one after
   another to a receiver on loopback (http.server in a thread): deliveries/s.
3. **Sends with Celery workers**: the same through ``celery -A helpdesk worker
   --concurrency=--workers`` on Redis (``--broker``; skipped with ``--broker ""``): from the
   first job enqueued to the last row delivered, deliveries/s.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("DATABASE_URL", f"sqlite:///{ROOT / 'var' / 'bench_webhooks.sqlite3'}")
os.environ.setdefault("WEBHOOK_ALLOWED_NETWORKS", "127.0.0.0/8")  # the receiver is local
# Before any Celery app exists: the product's app sends to the bench broker.
_broker = next((a.split("=", 1)[1] for a in sys.argv if a.startswith("--broker=")), None)
os.environ["CELERY_BROKER_URL"] = _broker or "memory://"

import django  # noqa: E402

warnings.filterwarnings("ignore", message="No directory at")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from people.models import Contact, ContactEmail  # noqa: E402
from tests.webhooks.receiver import Receiver, running_receiver  # noqa: E402
from tickets.models import Pool  # noqa: E402
from tickets.services.intake import CustomerMail, receive_customer_messages  # noqa: E402
from webhooks import outbox, services  # noqa: E402
from webhooks.events import Item  # noqa: E402
from webhooks.models import Delivery, Endpoint  # noqa: E402


def _fresh_database() -> None:
    name = str(connection.settings_dict["NAME"])
    if "bench" not in name:
        sys.exit(f"refusing to flush {name!r}: the database name must contain 'bench'")
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)


def _contacts(count: int) -> list[Contact]:
    contacts = Contact.objects.bulk_create(Contact(name=f"Customer {n}") for n in range(count))
    ContactEmail.objects.bulk_create(
        ContactEmail(contact=c, address=f"c{c.pk}@bench.test", is_primary=True) for c in contacts
    )
    return contacts


SPENT: list[float] = []  # seconds inside webhooks' queue_deliveries, the receivers' work


def _timed(queue_deliveries):
    def timed(*args, **kwargs):
        tick = time.perf_counter()
        try:
            return queue_deliveries(*args, **kwargs)
        finally:
            SPENT.append(time.perf_counter() - tick)

    return timed


def _ingest(pool, contacts, *, batch: int, label: str) -> dict:
    """Run the intake in batches, each with its after-commit receivers; per-batch figures."""
    times, queries = [], []
    SPENT.clear()
    before = Delivery.objects.count()
    started = time.perf_counter()
    for start in range(0, len(contacts), batch):
        mails = [
            CustomerMail(contact=c, subject=f"{label} {c.pk}", body_text="Hello", pool=pool)
            for c in contacts[start : start + batch]
        ]
        with CaptureQueriesContext(connection) as captured:
            tick = time.perf_counter()
            receive_customer_messages(mails)  # autocommit: the receivers run at its commit
            times.append((time.perf_counter() - tick) * 1000)
        queries.append(len(captured))
    seconds = time.perf_counter() - started
    created = Delivery.objects.count() - before
    return {
        "ms": statistics.median(times),
        "queries": statistics.median(queries),
        "seconds": seconds,
        "deliveries": created,
        "webhook_seconds": sum(SPENT),
    }


def bench_ingest(args, pool) -> None:
    half = args.tickets
    contacts = _contacts(2 * half)
    Endpoint.objects.update(active=False)
    without = _ingest(pool, contacts[:half], batch=args.batch, label="plain")
    Endpoint.objects.update(active=True)
    with_hooks = _ingest(pool, contacts[half:], batch=args.batch, label="hooked")
    print(f"\n1. Ingest of {half} new tickets in batches of {args.batch} (after-commit receivers)")
    for name, run in (("no webhook", without), (f"{args.endpoints} endpoints", with_hooks)):
        print(
            f"   {name:>12}: {run['ms']:7.1f} ms median per batch, {run['queries']:.0f} queries "
            f"per batch, {half / run['seconds']:6.0f} tickets/s"
        )
    spent = with_hooks["webhook_seconds"]
    batches = -(-half // args.batch)
    print(
        f"   webhooks' receivers: {spent * 1000 / batches:.1f} ms and "
        f"{with_hooks['queries'] - without['queries']:.0f} queries per batch; "
        f"{with_hooks['deliveries']} deliveries created, "
        f"{with_hooks['deliveries'] / spent:.0f} deliveries/s while recording them, "
        f"{with_hooks['deliveries'] / with_hooks['seconds']:.0f}/s of the whole ingest"
    )


def _pending_ids(count: int, endpoint, pool) -> list[int]:
    from tickets.models import Ticket

    Delivery.objects.all().delete()
    ticket_ids = list(Ticket.objects.filter(pool=pool).values_list("pk", flat=True)[:count])
    only = {pool.pk: [endpoint.pk]}
    return outbox.queue_deliveries("ticket.created", [Item(pk) for pk in ticket_ids], by_pool=only)


def bench_sends(args, pool, endpoint, receiver) -> None:
    ids = _pending_ids(args.sends, endpoint, pool)
    started = time.perf_counter()
    for delivery_id in ids:
        outbox.send_delivery(delivery_id)
    seconds = time.perf_counter() - started
    delivered = Delivery.objects.filter(state=Delivery.State.DELIVERED).count()
    assert delivered == len(ids) and all(got.valid for got in receiver.received)
    print(f"\n2. {len(ids)} sends in one process to a receiver on loopback")
    print(f"   {len(ids) / seconds:.0f} deliveries/s ({seconds * 1000 / len(ids):.1f} ms each)")


def bench_workers(args, pool, endpoint, receiver) -> None:
    import redis

    redis.Redis.from_url(args.broker).flushdb()
    env = {**os.environ, "CELERY_BROKER_URL": args.broker}
    command = [
        sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "-Q", "webhooks",
        f"--concurrency={args.workers}", "--pool=prefork", "--loglevel=WARNING",
        "--without-heartbeat", "--without-gossip", "--without-mingle",
    ]  # fmt: skip
    log = ROOT / "var" / "bench_webhooks_worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=out)  # noqa: S603
    try:
        time.sleep(6)  # the children start and connect
        receiver.received.clear()
        started = time.perf_counter()
        ids = _pending_ids(args.sends, endpoint, pool)  # one fan-out job on commit
        delivered = Delivery.objects.filter(state=Delivery.State.DELIVERED)
        while delivered.count() < len(ids):
            if worker.poll() is not None or time.perf_counter() - started > 600:
                sys.exit("the worker stopped or was too slow:\n" + log.read_text()[-3000:])
            time.sleep(0.2)
        seconds = time.perf_counter() - started
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    assert all(got.valid for got in receiver.received)
    print(f"\n3. {len(ids)} deliveries through {args.workers} Celery worker processes (Redis)")
    print(f"   {len(ids) / seconds:.0f} deliveries/s, from the commit to the last one delivered")


def main() -> None:
    outbox.queue_deliveries = _timed(outbox.queue_deliveries)  # the receivers look it up
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--endpoints", type=int, default=2)
    parser.add_argument("--sends", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--broker", default="")
    args = parser.parse_args()
    _fresh_database()
    print(f"database: {connection.vendor}")
    pool = Pool.objects.create(name="Bench webhooks")
    with running_receiver(Receiver()) as receiver:
        endpoints = []
        for n in range(args.endpoints):
            endpoint, receiver.secret = services.create_endpoint(
                name=f"Bench {n}", url=receiver.url, events=["ticket.created", "message.customer"],
                pools=[pool], active=True, actor=None,
            )  # fmt: skip
            endpoints.append(endpoint)
        bench_ingest(args, pool)
        # One endpoint, one secret, for the sends.
        Endpoint.objects.exclude(pk=endpoints[-1].pk).delete()
        bench_sends(args, pool, endpoints[-1], receiver)
        if args.broker:
            bench_workers(args, pool, endpoints[-1], receiver)


if __name__ == "__main__":
    main()
