"""Arrival-to-ticket latency: IMAP IDLE (the listener) against polling (beat's dispatch).

Usage (from the repository root; PostgreSQL, Redis and Dovecot; the broker's Redis
database is purged; the bench's mailboxes and tickets are added to the database, nothing
is deleted):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench \\
        .venv/bin/python bench/bench_idle.py [--messages 500] [--idle-window 120] \\
        [--poll-window 300] [--poll-interval 60] [--workers 2] [--broker redis://127.0.0.1:6379/2]

It starts a Dovecot on loopback (tests/mailboxes/servers.py) and the product's Celery
worker (`celery -A helpdesk worker`, prefork, through bench/ingest_worker.py), then for
each mode makes a fresh IMAP mailbox and APPENDs N messages, each a new ticket, at random
moments spread uniformly over the window (one IMAP connection, as a mail server would
deliver them):
- idle: `manage.py listen_mail` runs; no beat, so nothing polls;
- poll: `celery beat` runs (its dispatch every 10 s) and the mailbox is fetched every
  --poll-interval seconds (the product's default, 1 minute); no listener.
A message's latency is from the end of its APPEND to its ticket's creation (the ticket's
created_at, in the processing transaction). It prints the median, p95 and maximum per
mode, and the load average at the start and the end.
"""

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")


def _mail(run: str, index: int) -> bytes:
    message = EmailMessage()
    message["From"] = f"Customer {index} <customer{index}@example.com>"
    message["To"] = "support@helpdesk.test"
    message["Subject"] = f"Bench {run} {index}: the printer is on fire"
    message["Message-ID"] = f"<bench-{run}-{index}@example.com>"
    message["Date"] = format_datetime(datetime.now(UTC))
    message.set_content(f"Hello,\nprinter {index} needs help.\nThanks, customer {index}\n")
    return message.as_bytes()


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def _make_mailbox(dovecot, user: str, *, interval: int) -> int:
    from mailboxes.models import Mailbox
    from tests.mailboxes.servers import PASSWORD
    from tickets.models import Pool

    pool, _ = Pool.objects.get_or_create(name="Bench IDLE")
    # Earlier runs' mailboxes point at Dovecots that are gone: off, so nothing fetches them.
    Mailbox.objects.filter(name__startswith="bench-idle-").update(active=False)
    return Mailbox.objects.create(
        name=f"bench-idle-{time.time_ns()}",
        kind=Mailbox.Kind.IMAP,
        pool=pool,
        from_address="support@helpdesk.test",
        host=dovecot.host,
        port=dovecot.imap_port,
        security=Mailbox.Security.NONE,
        username=user,
        password=PASSWORD,
        auto_reply=False,
        fetch_interval=timedelta(seconds=interval),
    ).pk


class Process:
    """A product process (listener or beat) in the background, its output in a log file."""

    def __init__(self, command: list[str], *, env: dict, log: Path):
        self.log_path = log
        self.log = open(log, "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own commands
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def check(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(self.log_path.read_text())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)
        self.log.close()


def _wait(check, *, timeout: float, what: str, processes=()) -> None:
    from django.db import connection

    deadline = time.monotonic() + timeout
    while not check():
        for process in processes:
            process.check()
        if time.monotonic() > deadline:
            raise RuntimeError(f"not within {timeout} s: {what}")
        connection.close()
        time.sleep(0.2)


def _deliver(dovecot, user: str, run: str, count: int, window: float, seed: int) -> dict:
    """APPEND ``count`` mails at random moments over ``window`` s; Message-ID → arrival."""
    rng = random.Random(seed)
    moments = sorted(rng.uniform(0, window) for _ in range(count))
    arrived = {}
    started = time.monotonic()
    with dovecot.imap(user) as client:
        for index, moment in enumerate(moments):
            pause = started + moment - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            client.append("INBOX", _mail(run, index))
            arrived[f"<bench-{run}-{index}@example.com>"] = datetime.now(UTC)
    return arrived


def _latencies(mailbox_id: int, arrived: dict) -> list[float]:
    from mailboxes.models import RawMessage

    rows = RawMessage.objects.filter(mailbox_id=mailbox_id, ticket__isnull=False).values_list(
        "message_id", "ticket__created_at"
    )
    return sorted(
        (created - arrived[message_id]).total_seconds()
        for message_id, created in rows
        if message_id in arrived
    )


def _tickets(mailbox_id: int) -> int:
    from mailboxes.models import RawMessage

    return RawMessage.objects.filter(mailbox_id=mailbox_id, ticket__isnull=False).count()


def _run_mode(mode: str, args, dovecot, env: dict, workdir: Path) -> list[float]:
    from mailboxes.models import Mailbox

    user = dovecot.add_user()
    mailbox_id = _make_mailbox(dovecot, user, interval=args.poll_interval)
    run = f"{mode}-{time.time_ns()}"
    if mode == "idle":
        # Polling off for the bench's mailbox: no beat runs at all.
        command = [sys.executable, "manage.py", "listen_mail"]
        helper = Process(command, env=env, log=workdir / "listener.log")
        _wait(
            lambda: Mailbox.objects.filter(pk=mailbox_id, listening_at__isnull=False).exists(),
            timeout=120,
            what="the listener connects",
            processes=[helper],
        )
        window = args.idle_window
    else:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "helpdesk",
            "beat",
            "--loglevel=WARNING",
            f"--schedule={workdir / 'celerybeat-schedule'}",
        ]
        helper = Process(command, env=env, log=workdir / "beat.log")
        window = args.poll_window
    try:
        print(f"{mode}: {args.messages} messages over {window:.0f} s (load {_load()})", flush=True)
        arrived = _deliver(dovecot, user, run, args.messages, window, args.seed)
        _wait(
            lambda: _tickets(mailbox_id) >= args.messages,
            timeout=args.poll_interval * 3 + 300,
            what=f"{args.messages} tickets ({mode})",
            processes=[helper],
        )
    finally:
        helper.stop()
    return _latencies(mailbox_id, arrived)


def _report(mode: str, latencies: list[float], note: str) -> None:
    p95 = statistics.quantiles(latencies, n=100, method="inclusive")[94]
    print(
        f"{mode:5} n={len(latencies)}  median {statistics.median(latencies):7.2f} s  "
        f"p95 {p95:7.2f} s  max {max(latencies):7.2f} s  ({note})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument("--idle-window", type=float, default=120.0)
    parser.add_argument("--poll-window", type=float, default=300.0)
    parser.add_argument("--poll-interval", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--only", choices=["idle", "poll"])
    parser.add_argument(
        "--broker",
        default=os.environ.get("BENCH_BROKER_URL") or "redis://127.0.0.1:6379/2",
    )
    args = parser.parse_args()
    os.environ["CELERY_BROKER_URL"] = args.broker

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    from bench.bench_ingest import Worker, _purge
    from tests.mailboxes.servers import start_dovecot

    print(f"load average at the start: {_load()}", flush=True)
    _purge(args.broker)
    dovecot = start_dovecot()
    workdir = Path(tempfile.mkdtemp(prefix="bench-idle-"))
    env = {**os.environ, "CELERY_BROKER_URL": args.broker, "DEBUG": "false"}
    worker = Worker(args.broker, concurrency=args.workers, workdir=workdir)
    results = {}
    try:
        worker.wait_ready()
        connection.close()
        for mode in ["idle", "poll"] if args.only is None else [args.only]:
            results[mode] = _run_mode(mode, args, dovecot, env, workdir)
    finally:
        worker.stop()
        dovecot.stop()
    print(f"load average at the end: {_load()}; logs in {workdir}")
    notes = {
        "idle": f"listener, no polling, {args.idle_window:.0f} s window",
        "poll": (
            f"beat every 10 s, mailbox every {args.poll_interval} s, "
            f"{args.poll_window:.0f} s window"
        ),
    }
    for mode, latencies in results.items():
        _report(mode, latencies, notes[mode])


if __name__ == "__main__":
    main()
