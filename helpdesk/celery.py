import logging
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args, on_failure=None) -> None:
    """Send ``task(*args)`` to the broker once the current transaction commits; never raise.

    The database row the task works on is the truth, the broker message only a wake-up
    call: a broker that is down must not turn a stored reply into an HTTP 500 (whose retry
    would store it twice). A failed send is logged and ``on_failure`` (if given) runs, e.g.
    to mark the row so that the periodic sweep picks it up at once.
    """
    from django.db import transaction

    def send() -> None:
        try:
            task.delay(*args)
        except Exception:
            logger.exception("celery.enqueue_failed task=%s args=%r", task.name, args)
            if on_failure is not None:
                try:
                    on_failure()
                except Exception:  # the database may be gone too; the sweep still finds it
                    logger.exception("celery.enqueue_failure_handler_failed task=%s", task.name)

    transaction.on_commit(send)
