"""Ingestion benchmark: a maildir of generated messages through the real mail path.

Usage (from the repository root, PostgreSQL recommended):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench \\
        .venv/bin/python bench/bench_ingest.py [--messages 10000] [--workers 2]

It generates N messages (30% replies to earlier ones, 10% with an attachment), then:
1. times bare ``email.message_from_bytes`` over the same bytes, for comparison;
2. stores and processes every message with ``store_raw_message`` + ``process_raw_message``
   (exactly what a fetch does), originals first, then replies, in ``--workers`` processes;
3. processes one message with a 40 MB attachment in a fresh process and reports its peak
   memory.
It prints messages per second, SQL queries per message and peak memory (RSS).
"""

import argparse
import email
import multiprocessing
import os
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

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


def _message(rng, index, parent=None, attachment_bytes=0):
    sender = f"customer{rng.randrange(2000)}@example.com"
    msg = EmailMessage()
    msg["From"] = f"Customer {index} <{parent['from'] if parent else sender}>"
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


def generate(count, seed=7):
    rng = random.Random(seed)
    originals, replies, sent = [], [], []
    for index in range(count):
        attachment = rng.randrange(20_000, 200_000) if rng.random() < 0.10 else 0
        parent = rng.choice(sent) if sent and rng.random() < 0.30 else None
        data, info = _message(rng, index, parent, attachment)
        (replies if parent else originals).append(data)
        if not parent:
            sent.append(info)
    return originals, replies


def _setup_django():
    import django

    django.setup()


def _worker(args):
    chunk, mailbox_id = args
    from django.db import connection

    from mailboxes.ingest import store_raw_message
    from mailboxes.models import Mailbox
    from mailboxes.processing import process_raw_message

    mailbox = Mailbox.objects.get(pk=mailbox_id)
    # A counting wrapper, not connection.queries: that log keeps only the last 9,000
    # statements (queries_limit), so a long chunk would report far fewer than it ran.
    # Savepoints go through the cursor and are counted; BEGIN/COMMIT are not.
    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        for uid, data in chunk:
            raw = store_raw_message(mailbox, uid=uid, data=data)
            if raw is not None:
                process_raw_message(raw.pk)
    connection.close()
    return len(chunk), queries


def _run_phase(pool, messages, prefix, mailbox_id, workers):
    items = [(f"{prefix}:{i}", data) for i, data in enumerate(messages)]
    chunks = [(items[i :: workers * 8], mailbox_id) for i in range(workers * 8)]
    started = time.perf_counter()
    results = pool.map(_worker, chunks)
    elapsed = time.perf_counter() - started
    return elapsed, sum(r[0] for r in results), sum(r[1] for r in results)


def _prepare_database():
    from django.core.management import call_command

    from mailboxes.models import Mailbox
    from tickets.models import Pool

    call_command("migrate", verbosity=0)
    pool, _ = Pool.objects.get_or_create(name="Bench ingest")
    name = f"bench-{int(time.time())}"
    return Mailbox.objects.create(
        name=name,
        pool=pool,
        from_address="support@helpdesk.test",
        kind="maildir",
        auto_reply=False,
    ).pk


def big_attachment_peak_mb(mailbox_id):
    """Process one message with a 40 MB attachment in a fresh process; its peak RSS in MB."""
    command = [sys.executable, __file__, "--big-attachment-into", str(mailbox_id)]
    out = subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT)  # noqa: S603
    state, peak_kb = out.stdout.split()[-2:]
    return state, int(peak_kb) / 1024


def _process_big_attachment(mailbox_id):
    _setup_django()
    from mailboxes.ingest import store_raw_message
    from mailboxes.models import Mailbox
    from mailboxes.processing import process_raw_message

    data, _info = _message(random.Random(1), 999_999, None, 40 * 1024 * 1024)
    raw = store_raw_message(Mailbox.objects.get(pk=mailbox_id), uid=f"big:{os.getpid()}", data=data)
    del data
    raw = process_raw_message(raw.pk)
    print(raw.state, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--big-attachment-into", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.big_attachment_into:
        _process_big_attachment(args.big_attachment_into)
        return

    originals, replies = generate(args.messages)
    everything = originals + replies
    total_bytes = sum(len(m) for m in everything)

    started = time.perf_counter()
    for data in everything:
        parsed = email.message_from_bytes(data, policy=policy.default)
        parsed.get_body(("plain", "html"))
    bare_rate = len(everything) / (time.perf_counter() - started)

    _setup_django()
    from django.db import connection

    mailbox_id = _prepare_database()
    connection.close()
    context = multiprocessing.get_context("fork")
    with context.Pool(args.workers, initializer=_setup_django) as pool:
        t1, n1, q1 = _run_phase(pool, originals, "orig", mailbox_id, args.workers)
        t2, n2, q2 = _run_phase(pool, replies, "reply", mailbox_id, args.workers)
    children_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024

    from django.db.models import Count

    from mailboxes.models import RawMessage

    states = dict(
        RawMessage.objects.filter(mailbox_id=mailbox_id)
        .values_list("state")
        .annotate(n=Count("pk"))
    )
    print(
        f"database: {connection.vendor}; messages: {len(everything)} "
        f"({total_bytes / 2**20:.1f} MB, {len(replies)} replies); workers: {args.workers}"
    )
    print(f"bare email.message_from_bytes: {bare_rate:9.0f} msg/s")
    print(f"end to end, new tickets:       {n1 / t1:9.0f} msg/s  ({q1 / max(n1, 1):.1f} SQL/msg)")
    print(f"end to end, threaded replies:  {n2 / t2:9.0f} msg/s  ({q2 / max(n2, 1):.1f} SQL/msg)")
    print(f"end to end, all:               {(n1 + n2) / (t1 + t2):9.0f} msg/s")
    print(f"peak worker memory (RSS):      {children_peak:9.0f} MB")
    print(f"raw message states:            {states}")
    if not args.skip_big:
        state, peak = big_attachment_peak_mb(mailbox_id)
        print(f"40 MB attachment: {state}, peak worker memory {peak:.0f} MB")


if __name__ == "__main__":
    main()
