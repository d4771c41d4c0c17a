"""The IMAP IDLE listener against a real Dovecot: mail becomes a ticket within seconds.

The listener runs in a thread of the test process against the test database (committed
rows: transactional tests), and fetches through the poller's own task, run in-process
(eager) as a worker would run it. No poller runs unless a test starts one.
"""

import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from mailboxes.fetchers.imap import ImapFetcher
from mailboxes.idle import ERROR_PREFIX, Listener
from mailboxes.models import Mailbox, RawMessage
from mailboxes.tasks import fetch_mailbox_task
from people.language import load_models
from tests.mailboxes.conftest import make_mail
from tickets.models import Ticket

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until(check, *, timeout: float, what: str) -> float:
    """Seconds until ``check()`` held; fails after ``timeout``."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.02)
    return time.monotonic() - started


@pytest.fixture
def run_listener(settings, eager_tasks):
    """Start a Listener in a thread (stopped at the end); polling is off unless a test polls."""
    settings.MAIL_IDLE_REFRESH_SECONDS = 0.2
    settings.MAIL_IDLE_HEARTBEAT_SECONDS = 0.5
    settings.MAIL_IDLE_RETRY_MIN_SECONDS = 0.2
    settings.MAIL_IDLE_RETRY_MAX_SECONDS = 1.0
    settings.MAIL_POLL_WHILE_LISTENING = False
    load_models()  # as a worker does before it takes work: not timed on the first mail
    started = []

    def start() -> Listener:
        listener = Listener()
        thread = threading.Thread(target=listener.run, name="listener", daemon=True)
        thread.start()
        started.append((listener, thread))
        return listener

    yield start
    for listener, thread in started:
        listener.stop()
        thread.join(timeout=30)
        assert not thread.is_alive(), "the listener did not stop"


def _listened(mailbox) -> bool:
    mailbox.refresh_from_db()
    return mailbox.listening_at is not None and mailbox.last_success_at is not None


def _tickets(mailbox) -> int:
    return Ticket.objects.filter(raw_messages__mailbox=mailbox).count()


def _not_polled(mailbox) -> None:
    Mailbox.objects.filter(pk=mailbox.pk).update(next_fetch_at=timezone.now() + timedelta(days=1))


def test_mail_appended_to_the_inbox_becomes_a_ticket_within_three_seconds_without_polling(
    dovecot, mail_user, make_mailbox, run_listener
):
    mailbox = make_mailbox()
    _not_polled(mailbox)
    listener = run_listener()
    # Connected, and the catch-up fetch of a (re)connection has run on the empty inbox.
    wait_until(lambda: _listened(mailbox), timeout=15, what="the listener connects")
    assert _tickets(mailbox) == 0

    dovecot.append(mail_user, make_mail(1, subject="Printer on fire, IDLE edition"))

    took = wait_until(lambda: _tickets(mailbox) == 1, timeout=3, what="a ticket from IDLE")
    ticket = Ticket.objects.get(raw_messages__mailbox=mailbox)
    assert ticket.subject == "Printer on fire, IDLE edition"
    # One catch-up at connection (before the mail came), then at least one for its EXISTS.
    assert listener.fetches_requested >= 2
    assert took < 3


def test_idle_is_reissued_before_the_server_drops_it_and_mail_still_arrives(
    dovecot, mail_user, make_mailbox, run_listener, settings
):
    settings.MAIL_IDLE_RENEW_SECONDS = 0.3
    mailbox = make_mailbox()
    listener = run_listener()
    wait_until(lambda: _listened(mailbox), timeout=15, what="the listener connects")
    (watcher,) = listener.watchers.values()
    wait_until(lambda: watcher.renewals >= 3, timeout=10, what="IDLE re-issued three times")

    dovecot.append(mail_user, make_mail(1))

    wait_until(lambda: _tickets(mailbox) == 1, timeout=3, what="a ticket after renewals")
    assert watcher.failures == 0


def test_the_listener_survives_a_dovecot_restart(
    dovecot, mail_user, make_mailbox, run_listener, caplog
):
    mailbox = make_mailbox()
    _not_polled(mailbox)
    listener = run_listener()
    wait_until(lambda: _listened(mailbox), timeout=15, what="the listener connects")
    (watcher,) = listener.watchers.values()

    dovecot.restart()

    # The old server's imap process says BYE when it sees its master gone: up to 10 s.
    wait_until(lambda: "mail.idle_failed" in caplog.text, timeout=30, what="the drop is noticed")
    # Reconnected (with back-off) to the new server: listened to again, error cleared.
    wait_until(
        lambda: (
            Mailbox.objects.filter(
                pk=mailbox.pk, listening_at__isnull=False, last_error=""
            ).exists()
            and watcher.failures == 0
        ),
        timeout=15,
        what="the listener reconnects",
    )
    dovecot.append(mail_user, make_mail(2, subject="After the restart"))
    wait_until(lambda: _tickets(mailbox) == 1, timeout=5, what="a ticket after the restart")
    assert listener.watchers[mailbox.pk] is watcher, "the same watcher reconnected"


def test_a_mailbox_the_listener_cannot_log_in_to_shows_the_error_and_stays_polled(
    make_mailbox, run_listener
):
    mailbox = make_mailbox(password="wrong-password")
    run_listener()

    wait_until(
        lambda: Mailbox.objects.filter(pk=mailbox.pk, last_error__startswith=ERROR_PREFIX).exists(),
        timeout=15,
        what="the login failure is recorded",
    )
    mailbox.refresh_from_db()
    assert mailbox.listening_at is None, "not listened to: polled at its own interval"
    assert "wrong-password" not in mailbox.last_error
    assert "authentication failed" in mailbox.last_error.lower()


def test_twenty_mailboxes_in_one_listener_each_get_their_mail(
    dovecot, make_mailbox, pool, run_listener
):
    users = [dovecot.add_user() for _ in range(20)]
    mailboxes = [
        make_mailbox(name=f"IDLE {number}", username=user) for number, user in enumerate(users)
    ]
    Mailbox.objects.update(next_fetch_at=timezone.now() + timedelta(days=1))
    listener = run_listener()
    wait_until(
        lambda: (
            Mailbox.objects.filter(
                listening_at__isnull=False, last_success_at__isnull=False
            ).count()
            == 20
        ),
        timeout=60,
        what="twenty connections",
    )
    assert len(listener.watchers) == 20

    for number, user in enumerate(users):
        dovecot.append(user, make_mail(number, subject=f"For mailbox {number}"))

    wait_until(
        lambda: Ticket.objects.filter(raw_messages__mailbox__in=mailboxes).count() == 20,
        timeout=30,
        what="a ticket in each mailbox",
    )
    for number, mailbox in enumerate(mailboxes):
        assert Ticket.objects.get(raw_messages__mailbox=mailbox).subject == f"For mailbox {number}"


def test_the_listener_follows_mailboxes_added_and_deactivated(
    dovecot, mail_user, make_mailbox, run_listener
):
    listener = run_listener()
    mailbox = make_mailbox()
    wait_until(lambda: _listened(mailbox), timeout=15, what="a new mailbox is picked up")

    Mailbox.objects.filter(pk=mailbox.pk).update(active=False)

    wait_until(
        lambda: (
            Mailbox.objects.filter(pk=mailbox.pk, listening_at__isnull=True).exists()
            and not listener.watchers
        ),
        timeout=10,
        what="a deactivated mailbox is let go",
    )
    dovecot.append(mail_user, make_mail(1))
    time.sleep(1.0)
    assert RawMessage.objects.count() == 0


def test_listener_and_poller_together_never_fetch_or_store_a_mail_twice(
    dovecot, mail_user, make_mailbox, run_listener, monkeypatch
):
    count = 15
    mailbox = make_mailbox(after_import=Mailbox.AfterImport.MOVE, move_to_folder="Imported")
    downloads: list[str] = []
    real_fetch = ImapFetcher.fetch

    def counted(self, uid):
        downloads.append(uid)
        return real_fetch(self, uid)

    monkeypatch.setattr(ImapFetcher, "fetch", counted)
    run_listener()
    wait_until(lambda: _listened(mailbox), timeout=15, what="the listener connects")
    stop_polling = threading.Event()

    def poll() -> None:
        # The poller at its most eager: the same task, back to back, beside the listener.
        try:
            while not stop_polling.is_set():
                fetch_mailbox_task(mailbox.pk)
                time.sleep(0.01)
        finally:
            connections.close_all()

    poller = threading.Thread(target=poll, name="poller", daemon=True)
    poller.start()
    try:
        rng = random.Random(17)
        for number in range(count):
            dovecot.append(mail_user, make_mail(number))
            time.sleep(rng.uniform(0, 0.15))
        wait_until(
            lambda: (
                RawMessage.objects.filter(mailbox=mailbox, state=RawMessage.State.PROCESSED).count()
                == count
            ),
            timeout=30,
            what="every mail processed",
        )
    finally:
        stop_polling.set()
        poller.join(timeout=30)

    assert len(downloads) == count, "each mail downloaded once"
    assert len(set(downloads)) == count
    assert RawMessage.objects.filter(mailbox=mailbox).count() == count
    assert Ticket.objects.filter(raw_messages__mailbox=mailbox).distinct().count() == count
    # The listener may still be in a last (empty) round when the poller stops: its claim
    # must be let go within a moment, never left behind.
    wait_until(
        lambda: Mailbox.objects.filter(pk=mailbox.pk, fetch_claim="").exists(),
        timeout=10,
        what="the last fetch lets go of the mailbox",
    )
    mailbox.refresh_from_db()
    assert mailbox.last_error == "", "no fetch found its mail moved away by another"


def test_manage_py_listen_mail_listens_and_lets_go_on_sigterm(make_mailbox, tmp_path):
    from tests.celery_worker import ROOT, database_url

    mailbox = make_mailbox()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        # Its fetch requests go to a broker of its own that nothing reads.
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_FILESYSTEM_DIR": str(tmp_path / "broker"),
        "MAIL_IDLE_REFRESH_SECONDS": "0.2",
        "MAIL_IDLE_HEARTBEAT_SECONDS": "0.5",
    }
    log_path = tmp_path / "listener.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "listen_mail"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(
            lambda: (
                (process.poll() is None or pytest.fail(log_path.read_text()))
                and Mailbox.objects.filter(pk=mailbox.pk, listening_at__isnull=False).exists()
            ),
            timeout=120,
            what="the command listens",
        )
    finally:
        process.send_signal(signal.SIGTERM)
        returncode = process.wait(timeout=30)
    output = log_path.read_text()
    assert returncode == 0, output
    assert f"mail.idle_listening mailbox={mailbox.pk}" in output
    assert "mail.idle_listener_stopped" in output
    mailbox.refresh_from_db()
    assert mailbox.listening_at is None, "let go: polled at its own interval again"
