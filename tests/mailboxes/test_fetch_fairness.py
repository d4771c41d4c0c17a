"""A flooded mailbox takes turns: a capped run, then other mailboxes before its next one."""

from mailboxes import ingest, processing
from mailboxes.models import Mailbox, RawMessage
from tests.mailboxes.conftest import make_mail
from tests.mailboxes.test_fetch_maildir import _mailbox, _maildir


def test_one_run_downloads_at_most_the_per_run_cap_and_leaves_the_mailbox_due(
    pool, tmp_path, settings
):
    settings.MAIL_FETCH_MAX_PER_RUN = 3
    root = _maildir(tmp_path)
    for number in range(7):
        (root / "new" / f"{number}.eml").write_bytes(make_mail(number))
    flooded = _mailbox(pool, root)

    first = ingest.fetch_mailbox(flooded.pk)

    assert (len(first.stored), first.capped) == (3, True)
    assert len(list((root / "new").iterdir())) == 4
    flooded.refresh_from_db()
    # Due again at once, but not before this run's mail is processed (back-pressure).
    assert ingest.claim_due_mailboxes() == []
    processing.process_raw_messages(first.stored)
    assert ingest.claim_due_mailboxes() == [flooded.pk]
    second, third = ingest.fetch_mailbox(flooded.pk), ingest.fetch_mailbox(flooded.pk)
    assert (len(second.stored), len(third.stored), third.capped) == (3, 1, False)
    assert RawMessage.objects.filter(mailbox=flooded).count() == 7


def test_a_busy_mailbox_does_not_hold_up_the_dispatch_of_another(pool, tmp_path, settings):
    settings.MAIL_FETCH_MAX_PER_RUN = 2
    busy_root, quiet_root = _maildir(tmp_path / "busy"), _maildir(tmp_path / "quiet")
    for number in range(5):
        (busy_root / "new" / f"{number}.eml").write_bytes(make_mail(number))
    busy = _mailbox(pool, busy_root)
    quiet = Mailbox.objects.create(
        name="Quiet", kind=Mailbox.Kind.MAILDIR, pool=pool, maildir_path=str(quiet_root)
    )
    assert sorted(ingest.claim_due_mailboxes()) == sorted([busy.pk, quiet.pk])
    ingest.fetch_mailbox(busy.pk)
    ingest.fetch_mailbox(quiet.pk)
    Mailbox.objects.update(next_fetch_at=Mailbox.objects.get(pk=busy.pk).next_fetch_at)

    (quiet_root / "new" / "single.eml").write_bytes(make_mail(99))
    assert ingest.claim_due_mailboxes() == [quiet.pk]
