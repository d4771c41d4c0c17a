"""Each stored mail keeps its own file, whatever is already on the disk."""

from django.core.files.storage import default_storage

from mailboxes.ingest import store_raw_messages
from mailboxes.models import RawMessage
from tests.mailboxes.test_processing import build_mail, make_mailbox


def _bytes(n):
    return build_mail(subject=f"Question {n}", message_id=f"<raw{n}@example.test>").as_bytes()


def test_a_stored_mail_is_written_under_its_digest_with_its_bytes(pool):
    mailbox = make_mailbox(pool)
    [raw] = store_raw_messages(mailbox, [("1", _bytes(1))])
    stored = RawMessage.objects.get(pk=raw.pk)
    assert stored.file.name.endswith(f"/{stored.sha256}.eml")
    with stored.file.open("rb") as handle:
        assert handle.read() == _bytes(1)


def test_a_file_left_under_the_name_by_an_earlier_run_is_not_overwritten_nor_shared(pool):
    # A fetch that wrote its file and died before its INSERT; the mail comes again.
    mailbox = make_mailbox(pool)
    data = _bytes(2)
    [first] = store_raw_messages(mailbox, [("1", data)])
    stray_name = first.file.name
    RawMessage.objects.filter(pk=first.pk).delete()  # the row never committed
    with default_storage.open(stray_name, "wb") as stray:
        stray.write(b"partial")

    [again] = store_raw_messages(mailbox, [("1", data)])

    assert again is not None and again.file.name != stray_name
    with again.file.open("rb") as handle:
        assert handle.read() == data
    with default_storage.open(stray_name, "rb") as stray:
        assert stray.read() == b"partial"


def test_the_same_bytes_under_a_second_uid_are_a_duplicate_and_leave_no_file(pool):
    mailbox = make_mailbox(pool)
    data = _bytes(3)
    [first] = store_raw_messages(mailbox, [("1", data)])
    [second] = store_raw_messages(mailbox, [("2", data)])
    assert second is None
    assert RawMessage.objects.count() == 1
    directory = first.file.name.rpartition("/")[0]
    _dirs, files = default_storage.listdir(directory)
    assert [name for name in files if name.startswith(first.sha256)] == [
        first.file.name.rpartition("/")[2]
    ]
