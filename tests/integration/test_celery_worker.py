"""A real Celery worker runs our tasks, on the embedded broker and on Redis."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.celery_worker import run_worker_until
from tests.conftest import _agent
from tests.factories import TicketFactory
from tickets.models import TicketPresence

TASK = "tickets.tasks.purge_ticket_presence_task"


def _stale_presence():
    TicketPresence.objects.create(
        ticket=TicketFactory(), user=_agent("viewer"), seen_at=timezone.now() - timedelta(hours=2)
    )


@pytest.mark.django_db(transaction=True)
def test_worker_on_the_embedded_file_system_broker_runs_a_task(tmp_path):
    _stale_presence()
    folder = tmp_path / "broker"
    options = {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "control_folder": str(folder / "control"),
    }
    for path in options.values():
        Path(path).mkdir(parents=True, exist_ok=True)
    run_worker_until(
        "filesystem://",
        task=TASK,
        env={"CELERY_FILESYSTEM_DIR": str(folder)},
        transport_options=options,
        check=lambda: not TicketPresence.objects.exists(),
        log_path=tmp_path / "worker.log",
    )


@pytest.mark.django_db(transaction=True)
def test_worker_on_redis_runs_a_task(tmp_path, exclusive_redis):
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    exclusive_redis(url)
    _stale_presence()
    run_worker_until(
        url,
        task=TASK,
        check=lambda: not TicketPresence.objects.exists(),
        log_path=tmp_path / "worker.log",
    )
