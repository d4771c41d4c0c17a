"""import_mail feeds .eml files, maildirs and .mbox files through the fetch path."""

import mailbox as stdlib_mailbox
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mailboxes.models import Mailbox, RawMessage
from tests.mailboxes.conftest import (
    OWN_MESSAGES,
    SHARED_CORPUS,
    make_mail,
    require_shared_corpus,
)


@pytest.fixture
def local_mailbox(pool):
    return Mailbox.objects.create(
        name="Archive", pool=pool, from_address="support@helpdesk.test", auto_reply=False
    )


def _reply(number, to_number):
    mail = make_mail(number, subject=f"Re: Printer {to_number} is on fire")
    # Same customer as the original, so the reply is from a participant.
    mail = mail.replace(
        f"Customer {number} <customer{number}@".encode(),
        f"Customer {to_number} <customer{to_number}@".encode(),
    )
    return mail.replace(
        b"Message-ID:", f"In-Reply-To: <message-{to_number}@example.test>\nMessage-ID:".encode()
    )


def _import(*paths) -> str:
    out = StringIO()
    call_command("import_mail", "--mailbox", "Archive", *map(str, paths), stdout=out, stderr=out)
    return out.getvalue()


def _count(output: str, name: str) -> int:
    for line in output.splitlines():
        number, _, label = line.strip().partition("  ")
        if label.strip() == name:
            return int(number)
    raise AssertionError(f"{name!r} not in summary:\n{output}")


def test_import_mail_of_eml_dir_maildir_and_mbox_prints_the_summary(local_mailbox, tmp_path):
    emls = tmp_path / "emls"
    emls.mkdir()
    (emls / "one.eml").write_bytes(make_mail(1))
    (emls / "two.eml").write_bytes(make_mail(2))
    (emls / "notes.txt").write_text("not mail")
    maildir = tmp_path / "Maildir"
    for name in ("cur", "new", "tmp"):
        (maildir / name).mkdir(parents=True)
    (maildir / "cur" / "1.host:2,S").write_bytes(_reply(3, 1))
    (maildir / "new" / "2.host").write_bytes(make_mail(1))  # the same mail again
    auto = make_mail(4).replace(b"Message-ID:", b"Auto-Submitted: auto-replied\nMessage-ID:")
    box = stdlib_mailbox.mbox(tmp_path / "archive.mbox")
    try:
        box.add(make_mail(5))
        box.add(auto)
        box.flush()
    finally:
        box.close()

    output = _import(emls, maildir, tmp_path / "archive.mbox")

    assert _count(output, "new ticket") == 3
    assert _count(output, "reply threaded") == 1
    assert _count(output, "ignored (auto_reply)") == 1
    assert _count(output, "failed") == 0
    assert _count(output, "duplicate skipped") == 1
    assert _count(output, "messages read") == 6
    assert RawMessage.objects.filter(mailbox=local_mailbox).count() == 5
    assert all(
        uid.startswith("import:") for uid in RawMessage.objects.values_list("uid", flat=True)
    )
    reply = RawMessage.objects.get(message_id="<message-3@example.test>")
    assert reply.ticket == RawMessage.objects.get(message_id="<message-1@example.test>").ticket

    again = _import(emls)
    assert _count(again, "duplicate skipped") == 2
    assert _count(again, "new ticket") == 0


def test_import_mail_refuses_an_oversized_file_without_reading_it(
    local_mailbox, tmp_path, settings
):
    settings.MAIL_MAX_MESSAGE_BYTES = 1000
    (tmp_path / "big.eml").write_bytes(make_mail(1, body="x" * 5000))

    output = _import(tmp_path / "big.eml")

    assert _count(output, "refused (too large)") == 1
    assert RawMessage.objects.get().state == RawMessage.State.REFUSED


def test_import_mail_needs_an_existing_mailbox(db, tmp_path):
    with pytest.raises(CommandError, match="no mailbox"):
        _import(tmp_path)


def test_import_mail_of_our_own_test_messages_reads_them_all(local_mailbox):
    output = _import(OWN_MESSAGES)
    read = _count(output, "messages read")
    assert read == len(list(OWN_MESSAGES.glob("*.eml")))
    assert RawMessage.objects.count() == read


def test_import_mail_of_the_whole_corpus_never_crashes(local_mailbox):
    require_shared_corpus()

    output = _import(SHARED_CORPUS)

    read = _count(output, "messages read")
    assert read >= 130
    assert RawMessage.objects.count() + _count(output, "duplicate skipped") == read
