"""Start a real Celery worker against the test database, send it a task, wait for its effect."""

import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from celery import Celery
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def database_url() -> str:
    """The test database, as the worker subprocess must see it."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user, host, port = db["USER"] or "postgres", db["HOST"] or "127.0.0.1", db["PORT"] or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


def redis_available(url) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


def probe_app(broker_url, transport_options=None) -> Celery:
    """A Celery app that sends like ours (same queues and routes) to ``broker_url``."""
    sender = Celery("probe", broker=broker_url)
    sender.config_from_object("django.conf:settings", namespace="CELERY")
    sender.conf.broker_url = broker_url
    sender.conf.broker_transport_options = transport_options or {}
    return sender


@contextmanager
def running_worker(broker_url, *, log_path, env=None, concurrency=0):
    """A ``celery -A helpdesk worker`` (every queue) for the ``with`` block.

    Solo pool by default; ``concurrency`` > 0: that many processes, as the Procfile runs it.
    """
    worker_env = {**os.environ, "DATABASE_URL": database_url(), "CELERY_BROKER_URL": broker_url}
    worker_env.update(env or {})
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "helpdesk",
        "worker",
        *(["--pool=prefork", f"--concurrency={concurrency}"] if concurrency else ["--pool=solo"]),
        "--loglevel=WARNING",
        "--without-heartbeat",
        "--without-gossip",
        "--without-mingle",
    ]
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(  # noqa: S603 - our own worker command
            command, cwd=ROOT, env=worker_env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        yield worker
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def wait_for(check, *, worker, log_path, timeout, what="") -> float:
    """Poll ``check()`` until it holds; the seconds it took. Fails on timeout or a dead worker."""
    start = time.monotonic()
    while not check():
        assert worker.poll() is None, Path(log_path).read_text()
        if time.monotonic() - start > timeout:
            pytest.fail(f"not done in {timeout} s: {what}\n" + Path(log_path).read_text())
        time.sleep(0.1)
    return time.monotonic() - start


def run_worker_until(
    broker_url, *, task, args=(), check, log_path, env=None, transport_options=None, timeout=60
):
    """Run ``celery -A helpdesk worker``, send ``task``, and wait until ``check()`` holds."""
    with running_worker(broker_url, log_path=log_path, env=env) as worker:
        sender = probe_app(broker_url, transport_options)
        sender.send_task(task, args=list(args))
        wait_for(check, worker=worker, log_path=log_path, timeout=timeout, what=task)
