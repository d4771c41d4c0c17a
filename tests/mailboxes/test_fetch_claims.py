"""One fetch of a mailbox at a time, and polling as the fallback while the listener listens."""

from datetime import timedelta

from django.utils import timezone

from mailboxes import ingest
from mailboxes.fetch_claims import claim_fetch, fetch_mailbox_exclusively
from mailboxes.models import Mailbox, RawMessage
from tests.mailboxes.conftest import make_mail
from tests.mailboxes.test_fetch_maildir import _mailbox, _maildir


def _held_by_another(mailbox, *, until):
    Mailbox.objects.filter(pk=mailbox.pk).update(fetch_claim="other", fetch_claimed_until=until)


def test_a_fetch_asked_for_while_another_runs_fetches_nothing_and_asks_for_another_round(
    pool, tmp_path
):
    root = _maildir(tmp_path)
    (root / "new" / "1.eml").write_bytes(make_mail(1))
    mailbox = _mailbox(pool, root)
    _held_by_another(mailbox, until=timezone.now() + timedelta(minutes=5))

    assert fetch_mailbox_exclusively(mailbox.pk) is None

    assert RawMessage.objects.count() == 0
    mailbox.refresh_from_db()
    assert (mailbox.fetch_claim, mailbox.fetch_again) == ("other", True)


def test_a_claim_left_by_a_dead_worker_runs_out(pool, tmp_path):
    root = _maildir(tmp_path)
    (root / "new" / "1.eml").write_bytes(make_mail(1))
    mailbox = _mailbox(pool, root)
    _held_by_another(mailbox, until=timezone.now() - timedelta(seconds=1))

    result = fetch_mailbox_exclusively(mailbox.pk)

    assert len(result.stored) == 1
    mailbox.refresh_from_db()
    assert (mailbox.fetch_claim, mailbox.fetch_claimed_until) == ("", None), "let go after"


def test_mail_that_arrives_during_a_fetch_is_taken_by_the_round_the_listener_asks_for(
    pool, tmp_path
):
    root = _maildir(tmp_path)
    (root / "new" / "1.eml").write_bytes(make_mail(1))
    mailbox = _mailbox(pool, root)
    skipped = []

    def new_mail_meanwhile(_raw_id):
        # The listener hears of a new mail while the poller's fetch is past its listing.
        if not skipped:
            (root / "new" / "2.eml").write_bytes(make_mail(2))
            skipped.append(fetch_mailbox_exclusively(mailbox.pk))

    result = fetch_mailbox_exclusively(mailbox.pk, hand_over=new_mail_meanwhile)

    assert skipped == [None], "the second fetch did not run beside the first"
    assert len(result.stored) == 2, "the first went round again for it"
    assert RawMessage.objects.count() == 2
    mailbox.refresh_from_db()
    assert (mailbox.fetch_claim, mailbox.fetch_again) == ("", False)


def test_an_inactive_mailbox_is_not_claimed(pool, tmp_path):
    mailbox = _mailbox(pool, _maildir(tmp_path), active=False)
    assert claim_fetch(mailbox.pk) is None


def test_a_listened_mailbox_is_polled_at_the_fallback_interval(pool, tmp_path, settings):
    settings.MAIL_IDLE_POLL_SECONDS = 600
    settings.MAIL_IDLE_HEARTBEAT_SECONDS = 60
    now = timezone.now()
    listened = _mailbox(pool, _maildir(tmp_path / "a"), listening_at=now, next_fetch_at=now)
    plain = Mailbox.objects.create(
        name="Plain",
        kind=Mailbox.Kind.MAILDIR,
        pool=pool,
        maildir_path=str(_maildir(tmp_path / "b")),
        next_fetch_at=now,
    )

    assert sorted(ingest.claim_due_mailboxes(now)) == sorted([listened.pk, plain.pk])

    listened.refresh_from_db()
    plain.refresh_from_db()
    assert listened.next_fetch_at == now + timedelta(minutes=10)
    assert plain.next_fetch_at == now + timedelta(minutes=1)


def test_polling_resumes_when_the_listener_stops_marking_a_mailbox(pool, tmp_path, settings):
    settings.MAIL_IDLE_HEARTBEAT_SECONDS = 60
    now = timezone.now()
    stale = _mailbox(
        pool, _maildir(tmp_path), listening_at=now - timedelta(minutes=4), next_fetch_at=now
    )

    assert ingest.claim_due_mailboxes(now) == [stale.pk]

    stale.refresh_from_db()
    assert stale.next_fetch_at == now + timedelta(minutes=1)


def test_polling_a_listened_mailbox_is_off_only_when_configured(pool, tmp_path, settings):
    settings.MAIL_POLL_WHILE_LISTENING = False
    now = timezone.now()
    listened = _mailbox(pool, _maildir(tmp_path), listening_at=now, next_fetch_at=now)

    assert ingest.claim_due_mailboxes(now) == []

    listened.refresh_from_db()
    assert listened.next_fetch_at == now + timedelta(minutes=1), "looked at again, in case"
