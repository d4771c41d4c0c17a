"""The local maildir: drop a file in, it becomes a RawMessage, and moves to cur/."""

from mailboxes import ingest
from mailboxes.models import Mailbox, RawMessage
from tests.mailboxes.conftest import make_mail


def _maildir(tmp_path):
    root = tmp_path / "Maildir"
    for name in ("new", "cur", "tmp"):
        (root / name).mkdir(parents=True)
    return root


def _mailbox(pool, root, **fields):
    return Mailbox.objects.create(
        name="Local",
        kind=Mailbox.Kind.MAILDIR,
        pool=pool,
        from_address="support@helpdesk.test",
        maildir_path=str(root),
        **fields,
    )


def test_maildir_drop_of_an_eml_becomes_a_raw_message(pool, tmp_path):
    root = _maildir(tmp_path)
    (root / "new" / "1700000000.M1P1.host").write_bytes(make_mail(1))
    (root / "dropped.eml").write_bytes(make_mail(2))
    mailbox = _mailbox(pool, root)

    result = ingest.fetch_mailbox(mailbox.pk)

    assert len(result.stored) == 2
    assert set(RawMessage.objects.values_list("uid", flat=True)) == {
        "1700000000.M1P1.host",
        "dropped.eml",
    }
    assert list((root / "new").iterdir()) == []
    assert sorted(p.name for p in (root / "cur").iterdir()) == [
        "1700000000.M1P1.host:2,S",
        "dropped.eml:2,S",
    ]
    assert ingest.fetch_mailbox(mailbox.pk).stored == []


def test_maildir_move_and_delete_options(pool, tmp_path):
    root = _maildir(tmp_path)
    (root / "new" / "a").write_bytes(make_mail(1))
    mailbox = _mailbox(pool, root, after_import=Mailbox.AfterImport.MOVE, move_to_folder="Done")
    ingest.fetch_mailbox(mailbox.pk)
    assert [p.name for p in (root / ".Done" / "cur").iterdir()] == ["a:2,S"]

    (root / "new" / "b").write_bytes(make_mail(2))
    Mailbox.objects.filter(pk=mailbox.pk).update(after_import=Mailbox.AfterImport.DELETE)
    ingest.fetch_mailbox(mailbox.pk)
    assert list((root / "new").iterdir()) == []
    assert RawMessage.objects.count() == 2


def test_missing_maildir_is_recorded_as_a_fetch_error(pool, tmp_path):
    mailbox = _mailbox(pool, tmp_path / "nowhere")

    assert ingest.fetch_mailbox(mailbox.pk) is None

    mailbox.refresh_from_db()
    assert "does not exist" in mailbox.last_error
    assert mailbox.consecutive_failures == 1
