"""A real Celery worker runs our tasks, on the embedded broker and on Redis."""

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.db import connection
from django.utils import timezone

from tests.conftest import require
from tests.factories import TicketFactory
from tickets.models import TicketPresence

ROOT = Path(__file__).resolve().parents[2]
TASK = "tickets.tasks.purge_ticket_presence_task"


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def _redis_available(url) -> bool:
    try:
        return redis.Redis.from_url(url, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


def _run_worker_until(broker_url, env_extra, transport_options, check, log_path):
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": broker_url,
        **env_extra,
    }
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "helpdesk",
                "worker",
                "--pool=solo",
                "--loglevel=WARNING",
                "--without-heartbeat",
                "--without-gossip",
                "--without-mingle",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        sender = Celery("probe", broker=broker_url)
        sender.conf.broker_transport_options = transport_options
        sender.send_task(TASK)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if check():
                return
            assert worker.poll() is None, Path(log_path).read_text()
            time.sleep(0.2)
        pytest.fail("the worker did not run the task within 60 s:\n" + Path(log_path).read_text())
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def _stale_presence():
    ticket = TicketFactory()
    from tests.conftest import _agent

    user = _agent("viewer")
    TicketPresence.objects.create(
        ticket=ticket, user=user, seen_at=timezone.now() - timedelta(hours=2)
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
    _run_worker_until(
        "filesystem://",
        {"CELERY_FILESYSTEM_DIR": str(folder)},
        options,
        lambda: not TicketPresence.objects.exists(),
        tmp_path / "worker.log",
    )


@pytest.mark.django_db(transaction=True)
def test_worker_on_redis_runs_a_task(tmp_path):
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    require(_redis_available(url), f"needs Redis at {url}")
    redis.Redis.from_url(url).flushdb()
    _stale_presence()
    _run_worker_until(
        url, {}, {}, lambda: not TicketPresence.objects.exists(), tmp_path / "worker.log"
    )
