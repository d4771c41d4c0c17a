"""A real Celery worker on Redis fetches from Dovecot and processes what it stored."""

import os

import pytest

from mailboxes.models import RawMessage
from tests.celery_worker import run_worker_until
from tests.mailboxes.conftest import make_mail

REDIS_URL = os.environ.get("TEST_FETCH_REDIS_URL", "redis://127.0.0.1:6379/14")


def _processed(mailbox) -> bool:
    states = list(RawMessage.objects.filter(mailbox=mailbox).values_list("state", flat=True))
    return len(states) == 2 and RawMessage.State.NEW not in states


@pytest.mark.django_db(transaction=True)
def test_celery_worker_on_redis_fetches_from_dovecot_end_to_end(
    dovecot, mail_user, make_mailbox, tmp_path, exclusive_redis
):
    exclusive_redis(REDIS_URL)
    dovecot.append(mail_user, make_mail(1), make_mail(2))
    mailbox = make_mailbox()
    run_worker_until(
        REDIS_URL,
        task="mailboxes.tasks.fetch_mailbox_task",
        args=[mailbox.pk],
        env={"MEDIA_ROOT": str(tmp_path / "media")},
        check=lambda: _processed(mailbox),
        log_path=tmp_path / "worker.log",
    )

    mailbox.refresh_from_db()
    assert mailbox.last_success_at is not None
    raws = RawMessage.objects.filter(mailbox=mailbox)
    assert {raw.state for raw in raws} == {RawMessage.State.PROCESSED}
    assert all(raw.ticket_id for raw in raws)
    assert (tmp_path / "media" / "raw").is_dir()
