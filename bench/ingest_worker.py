"""The product's Celery worker, plus a count of the SQL statements each child runs.

Used by bench_ingest.py: ``python bench/ingest_worker.py worker --concurrency 2 ...`` is
``celery -A helpdesk worker ...`` with one addition: every database connection a worker
child opens counts its statements (savepoints included, each row of an executemany
counted, BEGIN/COMMIT not), and the count
is written to ``$BENCH_SQL_COUNTS/<pid>`` as it goes. With ``BENCH_RECEIVERS=1`` every
tickets_created, messages_added and tickets_updated event also enqueues a task, as the
receivers of other apps (SLA deadlines, notifications) do.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")


def _install_counter(directory: Path) -> None:
    from django.db.backends.signals import connection_created

    state = {"count": 0, "written": 0}

    def count(execute, sql, params, many, context):
        # An executemany is one round trip but as many statements as it has rows.
        state["count"] += len(params) if many else 1
        # Written every 200 statements and at exit: the bench reads it after the run.
        if state["count"] - state["written"] >= 200:
            _write()
        return execute(sql, params, many, context)

    def _write():
        state["written"] = state["count"]
        (directory / str(os.getpid())).write_text(str(state["count"]))

    def on_connect(sender, connection, **kwargs):
        if count not in connection.execute_wrappers:
            connection.execute_wrappers.append(count)

    connection_created.connect(on_connect, weak=False)
    from celery.signals import task_postrun

    task_postrun.connect(lambda **kwargs: _write(), weak=False)


def _install_receivers(app) -> None:
    """Receivers like the ones other apps add: each event enqueues one task (not consumed)."""
    import django

    django.setup()
    from tickets import signals

    def enqueue(sender, **kwargs):
        items = kwargs.get("tickets") or kwargs.get("messages") or kwargs.get("changes") or ()
        app.send_task("bench.event_sink", args=[len(items)], queue="bench-events")

    for signal in (signals.tickets_created, signals.messages_added, signals.tickets_updated):
        signal.connect(enqueue, weak=False, dispatch_uid=f"bench-{id(signal)}")


def _install_task_log(path: Path) -> None:
    """One line per task a child ran: pid, task name, start and end (wall clock, seconds).

    Shows where a run's wall time goes: busy children, idle children, which tasks wait.
    """
    import time

    from celery.signals import task_postrun, task_prerun

    started: dict[str, float] = {}

    def before(task_id=None, **kwargs):
        started[task_id] = time.time()

    def after(task_id=None, task=None, **kwargs):
        begun = started.pop(task_id, None)
        if begun is not None:
            with path.open("a") as log:
                log.write(f"{os.getpid()} {task.name} {begun:.4f} {time.time():.4f}\n")

    task_prerun.connect(before, weak=False)
    task_postrun.connect(after, weak=False)


def main() -> None:
    counts = os.environ.get("BENCH_SQL_COUNTS")
    from helpdesk.celery import app

    if counts:
        _install_counter(Path(counts))
    if os.environ.get("BENCH_TASK_LOG"):
        _install_task_log(Path(os.environ["BENCH_TASK_LOG"]))
    if os.environ.get("BENCH_RECEIVERS"):
        _install_receivers(app)
    if os.environ.get("BENCH_NO_SEARCH_INDEX"):
        import django

        django.setup()
        from tickets import signals

        for signal, uid in (
            (signals.tickets_created, "tickets-search-created"),
            (signals.messages_added, "tickets-search-messages"),
            (signals.tickets_updated, "tickets-search-updated"),
        ):
            signal.disconnect(dispatch_uid=uid)
    app.worker_main(sys.argv[1:])


if __name__ == "__main__":
    main()
