"""Mail intake and customer mail never wait behind a flood of something else.

A real worker (solo pool, as `celery worker` with every queue) on a real broker: the
embedded file-system one for the internal-mail flood, Redis for the mailbox flood. Each
queue is polled in turn, so a new ticket and its auto-reply overtake a thousand queued
internal notifications, and one mailbox's 1,500 messages take turns (a capped run at a
time) with another mailbox's single one.
"""

import os
from pathlib import Path

import pytest
from django.utils import timezone

from mailboxes.models import (
    Mailbox,
    NotificationPreference,
    NotificationRule,
    OutgoingEmail,
    RawMessage,
)
from tests.celery_worker import probe_app, running_worker, wait_for
from tests.factories import TicketFactory
from tests.mailboxes.conftest import make_mail
from tests.mailboxes.smtp_sink import SmtpSink, free_port, running_sink
from tickets.models import PoolMembership, Ticket

LIMIT = 10.0  # seconds, from the dispatch that finds the mail to its ticket (and auto-reply)


def _maildir(root: Path) -> Path:
    for name in ("new", "cur", "tmp"):
        (root / name).mkdir(parents=True, exist_ok=True)
    return root


def _mailbox(pool, root: Path, name: str) -> Mailbox:
    return Mailbox.objects.create(
        name=name,
        kind=Mailbox.Kind.MAILDIR,
        pool=pool,
        from_address=f"{name.lower()}@helpdesk.test",
        maildir_path=str(_maildir(root)),
    )


def _file_system_broker(folder: Path) -> dict:
    options = {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "control_folder": str(folder / "control"),
    }
    for path in options.values():
        Path(path).mkdir(parents=True, exist_ok=True)
    return options


def _ticket_answered(mailbox: Mailbox):
    def check() -> bool:
        ticket = Ticket.objects.filter(raw_messages__mailbox=mailbox).first()
        return (
            ticket is not None
            and ticket.outgoing_emails.filter(
                kind=OutgoingEmail.Kind.AUTO_REPLY, state=OutgoingEmail.State.SENT
            ).exists()
        )

    return check


@pytest.mark.django_db(transaction=True)
def test_a_new_mail_is_a_ticket_with_its_auto_reply_sent_ahead_of_1000_internal_mails(
    tmp_path, pool, exclusive
):
    exclusive("timed worker test")  # not while another one loads the machine
    options = _file_system_broker(tmp_path / "broker")
    sender = probe_app("filesystem://", options)
    ticket = TicketFactory(pool=pool)
    notifications = OutgoingEmail.objects.bulk_create(
        OutgoingEmail(
            kind=OutgoingEmail.Kind.NOTIFICATION,
            internal=True,
            ticket=ticket,
            from_address="support@helpdesk.test",
            to=[f"agent{n % 7}@helpdesk.test"],
            subject=f"Deadline approaching {n}",
            body_text="An internal reminder.\n",
            message_id=f"<reminder-{n}@helpdesk.test>",
        )
        for n in range(1000)
    )
    for outgoing in notifications:  # as outbound.enqueue_outgoing routes them
        sender.send_task("mailboxes.tasks.send_internal_email_task", args=[[outgoing.pk]])
    mailbox = _mailbox(pool, tmp_path / "Maildir", "Support")
    internal_sent = OutgoingEmail.objects.filter(internal=True, state=OutgoingEmail.State.SENT)

    sink = SmtpSink(port=free_port())
    env = {
        "CELERY_FILESYSTEM_DIR": str(tmp_path / "broker"),
        "EMAIL_URL": f"smtp://127.0.0.1:{sink.port}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    log = tmp_path / "worker.log"
    with running_sink(sink), running_worker("filesystem://", log_path=log, env=env) as worker:
        wait_for(internal_sent.exists, worker=worker, log_path=log, timeout=60, what="start")
        (Path(mailbox.maildir_path) / "new" / "1.M1.host").write_bytes(make_mail(1))
        sender.send_task("mailboxes.tasks.dispatch_due_mailboxes_task")  # beat's tick
        took = wait_for(
            _ticket_answered(mailbox), worker=worker, log_path=log, timeout=30, what="ticket"
        )
        waiting = 1000 - internal_sent.count()

    assert took < LIMIT, f"the mail took {took:.1f} s to become an answered ticket"
    assert waiting > 0, "the notifications were all sent first: nothing was overtaken"
    assert any(mail["To"] == "customer1@example.test" for mail in sink.messages)


@pytest.mark.django_db(transaction=True)
def test_a_single_mail_becomes_a_ticket_within_seconds_while_another_mailbox_floods(
    tmp_path, pool, agent, exclusive, exclusive_redis
):
    url = os.environ.get("TEST_FETCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    exclusive_redis(url)
    exclusive("timed worker test")
    flooded = _mailbox(pool, tmp_path / "flood", "Sales")
    for number in range(1500):
        path = Path(flooded.maildir_path) / "new" / f"{number}.M1.host"
        path.write_bytes(make_mail(number, message_id=f"<flood-{number}@example.test>"))
    quiet = _mailbox(pool, tmp_path / "quiet", "Support")
    # Notifications on: every new ticket also mails the pool's agents (internal mail).
    assert PoolMembership.objects.filter(pool=pool, user=agent).exists()
    NotificationRule.objects.update_or_create(
        event=NotificationRule.Event.TICKET_OPENED,
        pool=None,
        defaults={"enabled": True, "to_pool_members": True},
    )
    # ...those who chose to hear of new tickets in their pools (off by default).
    NotificationPreference.objects.create(user=agent, new_ticket="immediate")
    sender = probe_app(url)
    flood_tickets = Ticket.objects.filter(raw_messages__mailbox=flooded)

    sink = SmtpSink(port=free_port())
    env = {"EMAIL_URL": f"smtp://127.0.0.1:{sink.port}", "MEDIA_ROOT": str(tmp_path / "media")}
    log = tmp_path / "worker.log"
    procfile_worker = running_worker(url, log_path=log, env=env, concurrency=2)
    with running_sink(sink), procfile_worker as worker:
        sender.send_task("mailboxes.tasks.dispatch_due_mailboxes_task")
        wait_for(flood_tickets.exists, worker=worker, log_path=log, timeout=60, what="flood")
        (Path(quiet.maildir_path) / "new" / "1.M1.host").write_bytes(
            make_mail(1, message_id="<single@example.test>")
        )
        # The quiet mailbox's next fetch time comes; beat's next tick dispatches it.
        Mailbox.objects.filter(pk=quiet.pk).update(next_fetch_at=timezone.now())
        sender.send_task("mailboxes.tasks.dispatch_due_mailboxes_task")
        took = wait_for(
            lambda: Ticket.objects.filter(raw_messages__mailbox=quiet).exists(),
            worker=worker,
            log_path=log,
            timeout=60,
            what="the single mail",
        )
        still_new = RawMessage.objects.filter(mailbox=flooded).count() < 1500 or (
            RawMessage.objects.filter(mailbox=flooded, state=RawMessage.State.NEW).exists()
        )

    assert took < LIMIT, f"the single mail took {took:.1f} s with a flood next door"
    assert still_new, "the flood was over before the single mail came: nothing was tested"
    assert OutgoingEmail.objects.filter(internal=True).exists()  # notifications were on
