"""A failing mailbox records its error and backs off; the others go on; beat claims once."""

import logging
import socket
from datetime import timedelta

from django.utils import timezone

from mailboxes import ingest
from mailboxes.fetchers import imap
from mailboxes.models import Mailbox, RawMessage
from tests.mailboxes.conftest import make_mail
from tests.mailboxes.servers import free_port


def test_bad_password_records_the_error_with_backoff_and_other_mailboxes_still_fetch(
    dovecot, mail_user, make_mailbox, caplog
):
    dovecot.append(mail_user, make_mail(1))
    broken = make_mailbox(name="Broken", password="wrong-Secret-42")
    working = make_mailbox(name="Working")
    before = timezone.now()

    with caplog.at_level(logging.INFO, logger="mailboxes.ingest"):
        for mailbox in (broken, working):
            ingest.fetch_mailbox(mailbox.pk)
        ingest.fetch_mailbox(broken.pk)

    broken.refresh_from_db()
    assert "AUTHENTICATIONFAILED" in broken.last_error
    assert "wrong-Secret-42" not in broken.last_error
    assert broken.consecutive_failures == 2
    assert broken.last_success_at is None
    # Second failure in a row: twice the interval (1 minute) of the first.
    assert broken.next_fetch_at >= before + timedelta(minutes=2)
    assert RawMessage.objects.filter(mailbox=working).count() == 1
    assert "wrong-Secret-42" not in caplog.text
    assert f"mail.fetched mailbox={working.pk} new=1" in caplog.text
    assert f"mail.fetch_failed mailbox={broken.pk} failures=2" in caplog.text

    Mailbox.objects.filter(pk=broken.pk).update(password="right-password")
    ingest.fetch_mailbox(broken.pk)
    broken.refresh_from_db()
    assert (broken.last_error, broken.consecutive_failures) == ("", 0)
    assert broken.last_success_at is not None


def test_server_down_is_recorded_not_raised(make_mailbox):
    mailbox = make_mailbox(port=free_port())

    assert ingest.fetch_mailbox(mailbox.pk) is None

    mailbox.refresh_from_db()
    assert "ConnectionRefusedError" in mailbox.last_error
    assert mailbox.consecutive_failures == 1


def test_server_that_never_answers_times_out_and_is_recorded(make_mailbox, monkeypatch):
    monkeypatch.setattr(imap, "TIMEOUT", 0.3)
    with socket.socket() as silent:
        # Accepts connections (the kernel does) but never sends a greeting.
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        mailbox = make_mailbox(port=silent.getsockname()[1])

        assert ingest.fetch_mailbox(mailbox.pk) is None

    mailbox.refresh_from_db()
    assert "TimeoutError" in mailbox.last_error
    assert mailbox.consecutive_failures == 1


def test_backoff_doubles_and_is_capped_at_an_hour():
    minute = timedelta(minutes=1)
    assert [ingest.backoff(minute, n) for n in (1, 2, 3)] == [minute, 2 * minute, 4 * minute]
    assert ingest.backoff(minute, 50) == timedelta(hours=1)


def test_due_mailboxes_are_claimed_once(pool):
    now = timezone.now()
    due = Mailbox.objects.create(
        name="Due", pool=pool, from_address="a@helpdesk.test", next_fetch_at=now
    )
    Mailbox.objects.create(
        name="Later", pool=pool, from_address="b@helpdesk.test", next_fetch_at=now + timedelta(1)
    )
    Mailbox.objects.create(
        name="Off", pool=pool, from_address="c@helpdesk.test", next_fetch_at=now, active=False
    )

    assert ingest.claim_due_mailboxes(now) == [due.pk]
    assert ingest.claim_due_mailboxes(now) == [], "a second beat finds nothing to dispatch"
    due.refresh_from_db()
    assert due.next_fetch_at == now + due.fetch_interval
