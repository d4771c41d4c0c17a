"""A real Celery worker on Redis fetches from Dovecot and processes what it stored."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from celery import Celery

from mailboxes.models import RawMessage
from tests.conftest import require
from tests.integration.test_celery_worker import _database_url, _redis_available
from tests.mailboxes.conftest import make_mail

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("TEST_FETCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def _processed(mailbox) -> bool:
    states = list(RawMessage.objects.filter(mailbox=mailbox).values_list("state", flat=True))
    return len(states) == 2 and RawMessage.State.NEW not in states


@pytest.mark.django_db(transaction=True)
def test_celery_worker_on_redis_fetches_from_dovecot_end_to_end(
    dovecot, mail_user, make_mailbox, tmp_path
):
    require(_redis_available(REDIS_URL), f"needs Redis at {REDIS_URL}")
    redis.Redis.from_url(REDIS_URL).flushdb()
    dovecot.append(mail_user, make_mail(1), make_mail(2))
    mailbox = make_mailbox()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    log_path = tmp_path / "worker.log"
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
        sender = Celery("probe", broker=REDIS_URL)
        sender.send_task("mailboxes.tasks.fetch_mailbox_task", args=[mailbox.pk])
        deadline = time.monotonic() + 60
        while not _processed(mailbox):
            assert worker.poll() is None, log_path.read_text()
            assert time.monotonic() < deadline, "no fetch within 60 s:\n" + log_path.read_text()
            time.sleep(0.2)
    finally:
        worker.terminate()
        worker.wait(timeout=30)

    mailbox.refresh_from_db()
    assert mailbox.last_success_at is not None
    raws = RawMessage.objects.filter(mailbox=mailbox)
    assert {raw.state for raw in raws} == {RawMessage.State.PROCESSED}
    assert all(raw.ticket_id for raw in raws)
    assert (tmp_path / "media" / "raw").is_dir()
