"""Where the ingest path's SQL statements go, per message, in one process (no Celery).

Usage (the database name must contain "bench"; the tables are reused, nothing is wiped):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hd_ingest_bench \\
        .venv/bin/python bench/ingest_queries.py --messages 1000 [--agents] [--rule] \\
        [--auto-reply] [--outsiders] [--sla] [--top 25] [--eager] [--profile]

The same generated mail, mailbox settings and modes as ``bench_ingest.py``: the maildir is
fetched (stored), processed in batches of 50 by ``process_raw_messages`` (the receivers
run after each batch commits, as in a worker), then every outbox row is sent through the
send task's code path (``send_outgoing_emails``, 50 rows a job). Prints SQL
statements per message for each phase and the busiest call sites (the innermost frame in
the project's code), so a per-ticket statement shows as a count that grows with the mail.

``--eager`` runs every task the receivers queue after commit in this process, as a worker
would (the search index, webhook fan-out, mail sends): with it, the CPU time per message
printed is the worker's whole Python cost of a message (PostgreSQL's own CPU is not in
it), a figure that load on a shared machine barely moves. ``--profile`` adds cProfile's
busiest functions (sorted by own time, then cumulative).
"""

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
import traceback
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ["CELERY_BROKER_URL"] = "memory://"  # send jobs are run below, not by a worker
if "--eager" in sys.argv:
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"

APPS = ("mailboxes", "tickets", "sla", "people", "portal", "surveys", "reports", "helpdesk")


class Counting:
    """An execute wrapper: statements (each row of an executemany) by phase and call site."""

    def __init__(self, *, sites: bool = True):
        self.phase = "setup"
        self.with_sites = sites  # walking the stack per statement costs CPU: off for timing
        self.by_phase: Counter = Counter()
        self.sites: Counter = Counter()

    def __call__(self, execute, sql, params, many, context):
        n = len(params) if many else 1
        self.by_phase[self.phase] += n
        if self.phase != "setup" and self.with_sites:
            self.sites[(self.phase, _site())] += n
        return execute(sql, params, many, context)


def _site() -> str:
    for frame in reversed(traceback.extract_stack(limit=40)[:-2]):
        path = Path(frame.filename)
        try:
            relative = path.relative_to(ROOT)
        except ValueError:
            continue
        if relative.parts[0] in APPS:
            return f"{relative}:{frame.lineno} {frame.name}"
    return "?"


def _backend_cpu(connection) -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend (same machine only)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:  # another machine, or no access
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--profile", action="store_true", help="cProfile the processing")
    parser.add_argument("--eager", action="store_true", help="run queued tasks in-process")
    for flag in ("auto-reply", "sla", "agents", "rule", "outsiders"):
        parser.add_argument(f"--{flag}", action="store_true")
    args = parser.parse_args()

    os.environ["MAIL_FETCH_MAX_PER_RUN"] = str(max(args.messages, 200))  # one fetch takes all
    import django

    django.setup()
    from django.db import connection

    from bench.bench_ingest import (
        _configure,
        _make_mailbox,
        _require_bench_database,
        _threading_check,
        _write_maildir,
        generate,
    )
    from mailboxes import ingest, outbound, processing
    from mailboxes.models import AutoReplyLog, OutgoingEmail

    _require_bench_database()
    counting = Counting(sites=args.top > 0 and not args.profile)
    connection.execute_wrappers.append(counting)
    messages, replies, outsiders = generate(args.messages, outsiders=args.outsiders)
    workdir = Path(tempfile.mkdtemp(prefix="ingest-queries-"))
    _write_maildir(workdir / "maildir", messages)
    AutoReplyLog.objects.all().delete()
    _configure(sla=args.sla, rule=args.rule, agents=args.agents or args.rule)
    # As a worker does before its pool forks: the dictionaries are not part of a message.
    from people.language import load_models

    load_models()
    mailbox_id = _make_mailbox(workdir / "maildir", auto_reply=args.auto_reply)
    ids: list[int] = []
    started = time.perf_counter()
    counting.phase = "fetch"
    cpu = {"fetch": time.process_time()}
    ingest.fetch_mailbox(mailbox_id, hand_over=ids.append)
    counting.phase = "process"
    database_cpu = _backend_cpu(connection)
    cpu["process"] = time.process_time()
    cpu["fetch"] = cpu["process"] - cpu["fetch"]
    # CPU time, not wall time: waits on PostgreSQL and on a busy machine are left out.
    profile = cProfile.Profile(time.process_time) if args.profile else None
    if profile:
        profile.enable()
    for start in range(0, len(ids), processing.BATCH_SIZE):
        processing.process_raw_messages(ids[start : start + processing.BATCH_SIZE])
    if profile:
        profile.disable()
    cpu["process"] = time.process_time() - cpu["process"]
    if database_cpu is not None:
        database_cpu = (_backend_cpu(connection) or 0) - database_cpu
    if profile:
        if os.environ.get("BENCH_PROFILE_OUT"):  # for pstats / snakeviz afterwards
            profile.dump_stats(os.environ["BENCH_PROFILE_OUT"])
        stats = pstats.Stats(profile)
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
    counting.phase = "send"
    while True:
        due = list(
            OutgoingEmail.objects.filter(
                mailbox_id=mailbox_id, state=OutgoingEmail.State.QUEUED
            ).values_list("pk", flat=True)
        )
        if not due:
            break
        for start in range(0, len(due), processing.BATCH_SIZE):  # the jobs' lists
            outbound.send_outgoing_emails(due[start : start + processing.BATCH_SIZE])
    elapsed = time.perf_counter() - started
    n = args.messages
    flags = [f for f in ("auto_reply", "sla", "agents", "rule", "outsiders") if getattr(args, f)]
    print(
        f"{connection.vendor}; {n} messages ({replies} replies, {outsiders} from outsiders); "
        f"flags: {', '.join(flags)}"
    )
    print(f"one process, {n / elapsed:.0f} msg/s{' (tasks run eagerly)' if args.eager else ''}")
    print(
        f"  CPU ms/msg (this process): fetch {cpu['fetch'] * 1000 / n:.2f},"
        f" process {cpu['process'] * 1000 / n:.2f}"
        f"{' (profiled: inflated)' if profile else ''}"
        + (f"; PostgreSQL backend, process {database_cpu * 1000 / n:.2f}" if database_cpu else "")
    )
    total = 0
    for phase in ("fetch", "process", "send"):
        total += counting.by_phase[phase]
        print(f"  {phase:8} {counting.by_phase[phase] / n:6.2f} SQL/msg")
    print(f"  {'total':8} {total / n:6.2f} SQL/msg")
    print(f"threading: {_threading_check(mailbox_id, n, replies, outsiders)}")
    print(f"outbox rows: {OutgoingEmail.objects.filter(mailbox_id=mailbox_id).count()}")
    for (phase, site), count in counting.sites.most_common(args.top):
        print(f"{count / n:7.3f}  {phase:8} {site}")


if __name__ == "__main__":
    main()
