"""The beat's sweep task runs on a real Celery worker (Redis broker); its mail reaches SMTP."""

import os
from datetime import timedelta

import pytest
from django.utils import timezone

from mailboxes.models import OutgoingEmail
from sla.models import Deadline, Target
from tests.celery_worker import run_worker_until
from tests.factories import TicketFactory
from tests.mailboxes.smtp_sink import SmtpSink, free_port, running_sink
from tickets.models import ActivityLog
from tickets.states import Status


@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_the_sweep_and_sends_the_reminder_through_the_outbox(
    tmp_path, pool, agent, exclusive_redis
):
    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    exclusive_redis(url)
    now = timezone.now()
    ticket = TicketFactory(pool=pool, assignee=agent, status=Status.TAKEN)
    Deadline.objects.create(
        ticket=ticket, pool=pool, target=Target.FIRST_RESPONSE, budget_seconds=3600,
        running_since=now - timedelta(minutes=50), due_at=now + timedelta(minutes=10),
        remind_at=now - timedelta(minutes=1),
    )  # fmt: skip

    sink = SmtpSink(port=free_port())
    with running_sink(sink):
        run_worker_until(
            url,
            task="sla.tasks.sweep_task",
            env={"EMAIL_URL": f"smtp://127.0.0.1:{sink.port}"},
            check=lambda: OutgoingEmail.objects.filter(state="sent").exists(),
            log_path=tmp_path / "worker.log",
        )

    mail = OutgoingEmail.objects.get()
    (received,) = sink.messages
    assert received["To"] == agent.email == mail.to[0]
    assert received["Subject"].startswith("Deadline approaching")
    assert received["Auto-Submitted"] == "auto-generated"
    assert ActivityLog.objects.filter(ticket=ticket, action="sla_reminder").count() == 1
