"""Profile the widget's message POST in this process: CPU and SQL per message, and where.

Usage, from the repository root (a database whose name contains "bench")::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench_widget \\
        .venv/bin/python bench/profile_widget.py [--visitors 20] [--rounds 5] [--profile]

Through Django's test client (every middleware, the view, the commit and the after-commit
receivers), on real transactions: ``--visitors`` first messages, then ``--rounds`` follow-ups
each. Celery jobs are not sent but counted by task, then run here once, in process, to
give the worker's share (``--worker``: the first messages' jobs, then the follow-ups').
Prints CPU ms and SQL statements per message for first and follow-up messages;
``--profile`` prints cProfile's top functions.
"""

import argparse
import collections
import cProfile
import os
import pstats
import sys
import time
import uuid
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
os.environ.setdefault("CHAT_WIDGET_IP_PER_MINUTE", "1000000")
os.environ.setdefault("CHAT_WIDGET_MIN_SECONDS", "0")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.bench_widget import ORIGIN, setup  # noqa: E402


class Jobs:
    """Celery sends, kept instead of sent: (task, args) in order."""

    def __init__(self):
        self.sent: list = []

    def delay(self, task, *args, **kwargs):
        self.sent.append((task, args))


def post(client, key, token, number, stamp, after=0):
    fields = {
        "text": f"Message {number} from a profiled visitor",
        "client_id": uuid.uuid4().hex,
        "after": str(after),  # as the widget does: only what is new comes back
    }
    headers = {"HTTP_ORIGIN": ORIGIN}
    if token:
        headers["HTTP_X_CHAT_VISITOR"] = token
    else:
        fields.update({"stamp": stamp, "name": "Profiled visitor"})
    response = client.post(f"/chat/widget/{key}/messages/", fields, **headers)
    assert response.status_code == 201, response.content
    return response.json()["token"], response.json()["id"]


def measure(label, count, work, profile: cProfile.Profile | None):
    with CaptureQueriesContext(connection) as queries:
        cpu, wall = time.process_time(), time.perf_counter()
        if profile:
            profile.enable()
        work()
        if profile:
            profile.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"{label}: {count} messages, CPU {cpu / count * 1000:.1f} ms, "
        f"wall {wall / count * 1000:.1f} ms, SQL {len(queries) / count:.1f} per message"
    )
    return queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--worker", action="store_true", help="run the jobs sent, in process")
    parser.add_argument("--sql", action="store_true", help="print one follow-up's statements")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--first", action="store_true", help="profile the first messages")
    args = parser.parse_args()
    channel, _session = setup()
    key = str(channel.public_key)
    client = Client()
    stamp = client.get(f"/chat/widget/{key}/config/", HTTP_ORIGIN=ORIGIN).json()["stamp"]
    jobs = Jobs()
    tokens = [""] * args.visitors
    last = [0] * args.visitors
    profile = cProfile.Profile(time.process_time) if args.profile else None

    def first():
        for n in range(args.visitors):
            tokens[n], last[n] = post(client, key, "", 0, stamp)

    def follow_ups():
        for number in range(1, args.rounds + 1):
            for n in range(args.visitors):
                _token, last[n] = post(client, key, tokens[n], number, stamp, last[n])

    with (
        mock.patch("celery.app.task.Task.delay", lambda task, *a, **k: jobs.delay(task, *a)),
        mock.patch(
            "celery.app.task.Task.apply_async",
            lambda task, args=(), kwargs=None, **options: jobs.delay(task, *args),
        ),
    ):
        post(client, key, "", 0, stamp)  # warm-up: imports, caches
        jobs.sent.clear()
        measure("first messages", args.visitors, first, profile if args.first else None)
        sent_first = list(jobs.sent)
        jobs.sent.clear()
        queries = measure(
            "follow-ups", args.visitors * args.rounds, follow_ups, None if args.first else profile
        )
    per_task = collections.Counter(task.name for task, _ in jobs.sent)
    print("jobs sent by the follow-ups:", dict(per_task))
    print(
        "jobs sent by the first messages:", dict(collections.Counter(t.name for t, _ in sent_first))
    )
    if args.sql:
        per = len(queries) // (args.visitors * args.rounds)
        for query in queries.captured_queries[-per:]:
            print("  ", query["sql"][:300])
    if profile:
        stats = pstats.Stats(profile).strip_dirs().sort_stats("cumulative")
        stats.print_stats(args.top)
    if args.worker:
        run_jobs("worker, first messages' jobs", sent_first, args.visitors, args)
        run_jobs("worker, follow-ups' jobs", jobs.sent, args.visitors * args.rounds, args)


def run_jobs(label, sent, count, args):
    from people.language import load_models

    load_models()  # as a worker does before its pool forks: not a cost of these jobs
    profile = cProfile.Profile(time.process_time) if args.profile else None

    def work():
        for task, task_args in sent:
            task.run(*task_args)

    measure(label, count, work, profile)
    if profile:
        pstats.Stats(profile).strip_dirs().sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
