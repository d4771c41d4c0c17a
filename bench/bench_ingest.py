"""Ingestion benchmark: a maildir of generated messages through real Celery workers.

Usage (from the repository root; PostgreSQL and Redis; the database name must contain
"bench", and the broker's Redis database is purged):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench_ingest \\
        .venv/bin/python bench/bench_ingest.py [--messages 10000] [--workers 2] \\
        [--broker redis://127.0.0.1:6379/15]

It generates N messages (30% replies to earlier ones, 10% with an attachment) into a
maildir, in the order they were written (a reply always after its original), then:
1. times bare ``email.message_from_bytes`` over the same bytes in one process;
2. starts ``celery -A helpdesk worker --concurrency W`` (the product's worker, through
   ``bench/ingest_worker.py``, which only adds a SQL counter), sends one
   ``fetch_mailbox_task`` and waits until every message is processed: the fetch stores
   each message as a RawMessage and queues processing tasks, exactly as in production;
3. does the same with one message carrying a 40 MB attachment and a one-process worker,
   and reports that process's peak memory.
It prints messages per second (store, and end to end: processed and every ticket's search
document current), SQL statements per message, the workers' CPU time per message, their
peak memory (RSS) and checks that every reply was threaded.
"""

import argparse
import email
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

from bench import pg_state  # noqa: E402 - after the path is set

SUBJECTS = [
    "Fatura em duplicidade",
    "Nie działa internet",
    "Cannot log in",
    "Pedido de orçamento",
    "Faktura za październik",
    "Sistema fora do ar",
    "Wrong amount on invoice",
    "Zmiana hasła",
]
BODIES = [
    "Bom dia,\nA fatura deste mês veio em duplicidade. Podem verificar?\nObrigado, {name}",
    "Dzień dobry,\nod rana nie działa internet w biurze. Proszę o pomoc.\nPozdrawiam, {name}",
    "Hello,\nI cannot log in since yesterday's password reset.\nThanks, {name}",
]


def _message(rng, index, parent=None, attachment_bytes=0, outsider=False):
    sender = f"customer{rng.randrange(2000)}@example.com"
    if outsider:
        sender = f"someone-else-{index}@example.org"  # not a participant of the parent
    msg = EmailMessage()
    msg["From"] = f"Customer {index} <{parent['from'] if parent and not outsider else sender}>"
    msg["To"] = "support@helpdesk.test"
    msg["Subject"] = ("Re: " + parent["subject"]) if parent else rng.choice(SUBJECTS)
    msg["Message-ID"] = make_msgid(domain="example.com")
    msg["Date"] = format_datetime(datetime.now(UTC))
    if parent:
        msg["In-Reply-To"] = parent["message_id"]
        msg["References"] = parent["message_id"]
    body = rng.choice(BODIES).format(name=f"Customer {index}")
    if parent:
        body += "\n\n> " + "\n> ".join(parent["body"].splitlines())
    msg.set_content(body)
    if index % 4 == 0:
        msg.add_alternative(
            f"<html><body><p>{body.replace(chr(10), '<br>')}</p></body></html>", subtype="html"
        )
    if attachment_bytes:
        msg.add_attachment(
            os.urandom(attachment_bytes),
            maintype="application",
            subtype="octet-stream",
            filename=f"report-{index}.bin",
        )
    info = {
        "from": msg["From"].addresses[0].addr_spec,
        "subject": str(msg["Subject"]),
        "message_id": msg["Message-ID"],
        "body": body,
    }
    return msg.as_bytes(policy=policy.SMTP), info


def generate(count, seed=7, *, outsiders=False):
    """Messages in the order they were written, how many are replies and from outsiders.

    ``outsiders``: every third reply comes from someone who is not a participant of the
    thread it answers, so it opens a new ticket linked to the original.
    """
    rng = random.Random(seed)
    messages, sent, replies, strangers = [], [], 0, 0
    for index in range(count):
        attachment = rng.randrange(20_000, 200_000) if rng.random() < 0.10 else 0
        parent = rng.choice(sent) if sent and rng.random() < 0.30 else None
        outsider = bool(parent and outsiders and replies % 3 == 2)
        data, info = _message(rng, index, parent, attachment, outsider=outsider)
        messages.append(data)
        if parent:
            replies += 1
            strangers += outsider
        else:
            sent.append(info)
    return messages, replies, strangers


def _setup_django():
    import django

    django.setup()


def _write_maildir(root: Path, messages) -> None:
    for name in ("new", "cur", "tmp"):
        (root / name).mkdir(parents=True, exist_ok=True)
    for index, data in enumerate(messages):
        (root / "new" / f"{index:08d}.bench").write_bytes(data)


def _make_mailbox(maildir: Path, *, auto_reply=False) -> int:
    from mailboxes.models import Mailbox
    from tickets.models import Pool

    pool, _ = Pool.objects.get_or_create(name="Bench ingest")
    # Earlier runs' mailboxes read deleted maildirs; off, so that mail about the pool's
    # tickets (notifications) goes out from this run's mailbox and is waited for.
    Mailbox.objects.filter(pool=pool, name__startswith="bench-").update(active=False)
    return Mailbox.objects.create(
        name=f"bench-{time.time_ns()}",
        pool=pool,
        from_address="support@helpdesk.test",
        kind="maildir",
        maildir_path=str(maildir),
        auto_reply=auto_reply,
    ).pk


def _configure(*, sla: bool, rule: bool, agents: bool) -> None:
    """Turn the bench's SLA policy and notification rule on or off (kept between runs).

    --sla: one policy for every ticket on a weekday calendar, with first response, next
    response and resolution targets and a reminder, so each new ticket gets its deadlines.
    --agents: two agents of the bench pool hold an invoices skill, so routing gives them
    the tickets about invoices (3 of 8 subjects). --rule: "customer message → assignee" is
    on (with --agents implied: the rule needs assignees).
    """
    from datetime import time as clock

    from django.contrib.auth import get_user_model

    from mailboxes.models import NotificationRule
    from people.models import Skill
    from people.services import create_agent
    from sla.models import BusinessCalendar, SlaPolicy, WorkingInterval
    from tickets.models import Pool, PoolMembership

    calendar, made = BusinessCalendar.objects.get_or_create(
        name="Bench hours", defaults={"time_zone": "Europe/Warsaw", "holiday_country": "PL"}
    )
    if made:
        WorkingInterval.objects.bulk_create(
            WorkingInterval(calendar=calendar, weekday=day, start=clock(8), end=clock(18))
            for day in range(5)
        )
    SlaPolicy.objects.update_or_create(
        name="Bench standard",
        defaults={
            "calendar": calendar,
            "order": 1,
            "active": sla,
            "first_response_minutes": 240,
            "next_response_minutes": 480,
            "resolution_minutes": 2400,
            "reminder_before": 30,
        },
    )
    NotificationRule.objects.filter(event="customer_message", pool__isnull=True).update(
        enabled=rule, to_assignee=True
    )
    pool, _ = Pool.objects.get_or_create(name="Bench ingest")
    skill, _ = Skill.objects.get_or_create(
        name="Bench invoices", defaults={"keywords": "fatura, faktura, invoice"}
    )
    for name in ("bench-agent-1", "bench-agent-2"):
        user = get_user_model().objects.filter(username=name).first()
        if user is None:
            user = create_agent(username=name, password=None, email=f"{name}@helpdesk.test")
            user.agent_profile.skills.add(skill)
        if agents:
            PoolMembership.objects.get_or_create(pool=pool, user=user)
        else:
            PoolMembership.objects.filter(pool=pool, user=user).delete()


def _sla_and_notifications(mailbox_id) -> str:
    from mailboxes.models import OutgoingEmail
    from sla.models import Deadline
    from tickets.models import Ticket

    tickets = Ticket.objects.filter(raw_messages__mailbox_id=mailbox_id).distinct()
    due = tickets.filter(due_at__isnull=False).count()
    deadlines = Deadline.objects.filter(ticket__in=tickets).count()
    notified = OutgoingEmail.objects.filter(
        mailbox_id=mailbox_id, kind=OutgoingEmail.Kind.NOTIFICATION
    ).count()
    return f"{due} tickets with a due time, {deadlines} deadlines; {notified} notifications"


class Worker:
    """``celery worker`` in a subprocess, with a file where each child writes its SQL count."""

    def __init__(self, broker, *, concurrency, workdir: Path, receivers=False, messages=0):
        self.counts = workdir / "sql-counts"
        self.counts.mkdir(parents=True, exist_ok=True)
        env = {
            **os.environ,
            "CELERY_BROKER_URL": broker,
            "BENCH_SQL_COUNTS": str(self.counts),
            "DEBUG": "false",
            "BENCH_RECEIVERS": "1" if receivers else "",
            # No beat runs here to fetch the rest of a capped run: one fetch takes it all.
            "MAIL_FETCH_MAX_PER_RUN": str(max(messages, 200)),
        }
        command = [
            sys.executable,
            str(ROOT / "bench" / "ingest_worker.py"),
            "worker",
            f"--concurrency={concurrency}",
            "--pool=prefork",
            "--loglevel=WARNING",
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
        ]
        self.log = open(workdir / "worker.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(  # noqa: S603 - our own worker command
            command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        self.concurrency = concurrency
        self.workdir = workdir

    def children(self) -> list[int]:
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in path.read_text().split()] if path.exists() else []

    def wait_ready(self, timeout=600) -> None:  # the parent loads the language models first
        deadline = time.monotonic() + timeout
        while len(self.children()) < self.concurrency:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((self.workdir / "worker.log").read_text())
            time.sleep(0.2)
        time.sleep(1.0)  # the children connect to the broker

    def peak_rss_mb(self) -> list[float]:
        """Peak resident memory (VmHWM) of each worker child, in MB."""
        peaks = []
        for pid in self.children():
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
            peaks += [int(line.split()[1]) / 1024 for line in lines if line.startswith("VmHWM:")]
        return peaks

    def cpu_seconds(self) -> dict[int, float]:
        """CPU time (user + system) used so far by the worker and each of its children."""
        return {pid: _process_cpu(pid) for pid in [self.process.pid, *self.children()]}

    def sql_count(self) -> int:
        return sum(int(path.read_text() or 0) for path in self.counts.iterdir())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)
        self.log.close()


def _process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process on this machine; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _used(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def _purge(broker) -> None:
    import redis

    redis.Redis.from_url(broker).flushdb()


def _send_fetch(mailbox_id) -> None:
    # The product's app: its broker is CELERY_BROKER_URL (set to the bench broker in main)
    # and its task routes put the fetch on the intake queue, as in production.
    from helpdesk.celery import app

    app.send_task("mailboxes.tasks.fetch_mailbox_task", args=[mailbox_id])


def _states(mailbox_id) -> dict[str, int]:
    from django.db.models import Count

    from mailboxes.models import RawMessage

    rows = RawMessage.objects.filter(mailbox_id=mailbox_id).values_list("state")
    return dict(rows.annotate(n=Count("pk")).order_by())


def _run(broker, mailbox_id, count, *, workers, workdir, timeout, receivers=False):
    """Fetch and process through a fresh worker.

    Returns (store s, total s, SQL statements, peak RSS list, worker CPU s): the CPU the
    worker processes used during the run, which a busy machine stretches far less than the
    wall time. (Not the database's: Celery closes a task's connection when it ends, so the
    backends that served the run are gone; ``ingest_queries.py`` reports that one.)
    """
    _purge(broker)
    worker = Worker(
        broker, concurrency=workers, workdir=workdir, receivers=receivers, messages=count
    )
    try:
        worker.wait_ready()
        worker_cpu = worker.cpu_seconds()
        database_cpu = pg_state.postgres_cpu()
        server_before = pg_state.read()
        started = time.perf_counter()
        _send_fetch(mailbox_id)
        stored_at = None
        deadline = time.monotonic() + timeout
        while True:
            states = _states(mailbox_id)
            total = sum(states.values())
            if stored_at is None and total >= count:
                stored_at = time.perf_counter() - started
            if (
                total >= count
                and not states.get("new")
                and not _outbox_busy(mailbox_id)
                and (os.environ.get("BENCH_NO_SEARCH_INDEX") or not _index_behind(mailbox_id))
            ):
                break
            if worker.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"stuck at {states}: see {workdir / 'worker.log'}")
            # Autocommit: no transaction is kept open between polls. One connection for the
            # whole run: a new PostgreSQL session per poll cost the database more CPU than
            # the poll itself, on the cores the workers are measured on.
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
        peaks = worker.peak_rss_mb()
        worker_cpu = _used(worker_cpu, worker.cpu_seconds())
        after = pg_state.postgres_cpu()
        server_after = pg_state.read()
        if server_before and server_after:
            print(server_after.since(server_before))
        database_cpu = (
            after - database_cpu if after is not None and database_cpu is not None else None
        )
    finally:
        worker.stop()
    return stored_at, elapsed, worker.sql_count(), peaks, (worker_cpu, database_cpu)


def _outbox_busy(mailbox_id) -> bool:
    """Auto-replies of this mailbox still to send (the run ends when they are sent too)."""
    from mailboxes.models import OutgoingEmail

    busy = [OutgoingEmail.State.QUEUED, OutgoingEmail.State.SENDING]
    return OutgoingEmail.objects.filter(mailbox_id=mailbox_id, state__in=busy).exists()


def _index_behind(mailbox_id) -> bool:
    """A ticket of this mailbox whose search document is missing or older than the ticket."""
    from django.db.models import F, Q

    from tickets.models import Ticket

    behind = Q(search_doc__isnull=True) | Q(search_doc__indexed_at__lt=F("updated_at"))
    return Ticket.objects.filter(raw_messages__mailbox_id=mailbox_id).filter(behind).exists()


def _sent(mailbox_id) -> int:
    from mailboxes.models import OutgoingEmail

    return OutgoingEmail.objects.filter(mailbox_id=mailbox_id).count()


def _threading_check(mailbox_id, count, replies, outsiders=0) -> str:
    from tickets.models import ActivityLog, Message, Ticket

    tickets = Ticket.objects.filter(raw_messages__mailbox_id=mailbox_id).distinct()
    raws = tickets.count()
    messages = Message.objects.filter(raw_messages__mailbox_id=mailbox_id).count()
    text = (
        f"{raws} tickets for {count - replies} originals + {outsiders} outsiders; "
        f"{messages} messages for {count} mails"
    )
    if outsiders:
        linked = ActivityLog.objects.filter(
            ticket__in=tickets, action=ActivityLog.Action.LINKED
        ).count()
        text += f"; {linked} LINKED rows for {2 * outsiders} expected"
    return text


def _require_bench_database() -> None:
    from django.db import connection

    name = connection.settings_dict["NAME"]
    if "bench" not in str(name):
        sys.exit(f"refusing to write benchmark data into {name!r}: the name must contain 'bench'")
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if connection.vendor == "postgresql":
        # What autovacuum would have done (it is off on some dev servers): fresh statistics
        # and no dead index entries left by earlier runs.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--broker",
        default=os.environ.get("BENCH_BROKER_URL")
        or os.environ.get("CELERY_BROKER_URL")
        or "redis://127.0.0.1:6379/15",
    )
    parser.add_argument("--timeout", type=int, default=1800)
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--big-only", action="store_true")
    parser.add_argument(
        "--auto-reply",
        action="store_true",
        help="the mailbox answers new tickets (sent to files by the default mail backend)",
    )
    parser.add_argument(
        "--receivers",
        action="store_true",
        help="each tickets_created/messages_added/tickets_updated event enqueues a task",
    )
    parser.add_argument(
        "--sla", action="store_true", help="an SLA policy gives every ticket deadlines"
    )
    parser.add_argument(
        "--agents", action="store_true", help="two agents get the invoice tickets by skill"
    )
    parser.add_argument(
        "--rule",
        action="store_true",
        help="'customer message → assignee' is on (implies --agents)",
    )
    parser.add_argument(
        "--outsiders",
        action="store_true",
        help="a third of the replies come from a non-participant (new linked tickets)",
    )
    parser.add_argument(
        "--no-search-index",
        action="store_true",
        help="the workers keep no search documents (the other side of issue 16's 90%% ratio)",
    )
    args = parser.parse_args()
    if args.no_search_index:
        os.environ["BENCH_NO_SEARCH_INDEX"] = "1"
    # Before any Celery app exists: Celery reads CELERY_BROKER_URL before the broker= it is
    # given, so the fetch and the workers must agree through the environment.
    os.environ["CELERY_BROKER_URL"] = args.broker

    _setup_django()
    _require_bench_database()
    from django.db import connection

    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    try:
        if not args.big_only:
            messages, replies, outsiders = generate(args.messages, outsiders=args.outsiders)
            total_bytes = sum(len(m) for m in messages)
            started = time.perf_counter()
            for data in messages:
                parsed = email.message_from_bytes(data, policy=policy.default)
                parsed.get_body(("plain", "html"))
            bare_rate = len(messages) / (time.perf_counter() - started)
            _write_maildir(workdir / "maildir", messages)
            del messages
            if args.auto_reply:
                # Every run writes from the same addresses: the hourly limit starts afresh.
                from mailboxes.models import AutoReplyLog

                AutoReplyLog.objects.all().delete()
            _configure(sla=args.sla, rule=args.rule, agents=args.agents or args.rule)
            mailbox_id = _make_mailbox(workdir / "maildir", auto_reply=args.auto_reply)
            stored, elapsed, queries, peaks, (worker_cpu, database_cpu) = _run(
                args.broker,
                mailbox_id,
                args.messages,
                workers=args.workers,
                workdir=workdir,
                timeout=args.timeout,
                receivers=args.receivers,
            )
            load = os.getloadavg()
            print(
                f"database: {connection.vendor}; messages: {args.messages} "
                f"({total_bytes / 2**20:.1f} MB, {replies} replies, {outsiders} from outsiders); "
                f"worker concurrency: {args.workers}; "
                f"receivers enqueueing: {'yes' if args.receivers else 'no'}; "
                f"search index kept: {'no' if args.no_search_index else 'yes'}; "
                f"auto-replies: {_sent(mailbox_id) if args.auto_reply else 'off'}; "
                f"SLA policy: {'on' if args.sla else 'off'}; "
                f"rule 'customer message → assignee': {'on' if args.rule else 'off'}; "
                f"agents routed to: {'yes' if args.agents or args.rule else 'no'}; "
                f"load after: {load[0]:.2f} {load[1]:.2f}"
            )
            n = args.messages
            rows = [
                ("bare email.message_from_bytes (1 process)", f"{bare_rate:.0f} msg/s"),
                ("stored (fetch done)", f"{n / stored:.0f} msg/s"),
                ("end to end (stored and processed)", f"{n / elapsed:.0f} msg/s"),
                ("SQL statements per message (all tasks)", f"{queries / n:.2f}"),
                ("CPU ms per message: workers", f"{worker_cpu * 1000 / n:.2f}"),
                (
                    "CPU ms per message: PostgreSQL (all of it)",
                    f"{database_cpu * 1000 / n:.2f}" if database_cpu is not None else "n/a",
                ),
                ("peak RSS per worker process", ", ".join(f"{p:.0f}" for p in peaks) + " MB"),
            ]
            for label, value in rows:
                print(f"{label + ':':44}{value:>16}")
            print(f"raw message states: {_states(mailbox_id)}")
            print(f"threading: {_threading_check(mailbox_id, args.messages, replies, outsiders)}")
            print(f"receivers: {_sla_and_notifications(mailbox_id)}")
        if not args.skip_big:
            big = workdir / "big"
            data, _info = _message(random.Random(1), 999_999, None, 40 * 1024 * 1024)
            _write_maildir(big, [data])
            del data
            mailbox_id = _make_mailbox(big)
            _stored, elapsed, _queries, peaks, _cpu = _run(
                args.broker, mailbox_id, 1, workers=1, workdir=workdir / "w-big", timeout=600
            )
            print(
                f"40 MB attachment: {_states(mailbox_id)} in {elapsed:.1f} s, "
                f"peak RSS of the worker process {peaks[0]:.0f} MB"
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
