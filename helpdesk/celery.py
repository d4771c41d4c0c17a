import logging
import os

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


@worker_init.connect
def _load_language_models(sender=None, **kwargs) -> None:
    """Before a prefork pool forks: its children share them (seconds each to load, ~120 MB)."""
    from people.language import load_models

    pool = getattr(sender, "pool_cls", None)
    if "prefork" in getattr(pool, "__module__", ""):
        load_models()


@task_prerun.connect
@task_postrun.connect
def _close_old_connections(task=None, **kwargs) -> None:
    """Around each job, as around a request: drop a connection that broke, erred in a way
    that left it unusable or outlived CONN_MAX_AGE; keep a healthy one (CELERY_DB_REUSE_MAX
    tells Celery's own fixup not to close it)."""
    if task is not None and getattr(task.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


def enqueue_on_commit(
    task, *args, on_failure=None, countdown: float | None = None, priority: int | None = None
) -> None:
    """Send ``task(*args)`` to the broker once the current transaction commits; never raise.

    The database row the task works on is the truth, the broker message only a wake-up
    call: a broker that is down must not turn a stored reply into an HTTP 500 (whose retry
    would store it twice). A failed send is logged and ``on_failure`` (if given) runs, e.g.
    to mark the row so that the periodic sweep picks it up at once. ``countdown``: run it
    that many seconds later, not at once. ``priority``: the broker's (Redis: 0 first, 9
    last), for work that should only use a worker nothing else wants.
    """
    from django.db import transaction

    def send() -> None:
        try:
            if countdown or priority is not None:
                task.apply_async(args, countdown=countdown, priority=priority)
            else:
                task.delay(*args)
        except Exception:
            logger.exception("celery.enqueue_failed task=%s args=%r", task.name, args)
            if on_failure is not None:
                try:
                    on_failure()
                except Exception:  # the database may be gone too; the sweep still finds it
                    logger.exception("celery.enqueue_failure_handler_failed task=%s", task.name)

    transaction.on_commit(send)
