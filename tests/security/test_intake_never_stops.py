"""One bad mail never stops a mailbox: what the database refuses is cleaned, or refused alone.

A NUL encoded in a Subject (or raw in a Message-ID or Content-ID) used to fail the INSERT
of the whole fetched chunk on PostgreSQL; nothing was stored or marked, and every fetch
retried the same chunk for ever.
"""

import hashlib
import os
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from mailboxes import ingest
from mailboxes.models import Mailbox, RawMessage
from mailboxes.parsing import parse_message
from mailboxes.processing import process_raw_messages
from mailboxes.text import db_text
from people.models import ContactEmail
from tests.conftest import require_postgresql
from tests.mailboxes.conftest import make_mail
from tickets.models import Attachment, Ticket

MESSAGES = Path(__file__).parents[1] / "mailboxes" / "messages"
State = RawMessage.State


def _maildir_mailbox(pool, tmp_path) -> tuple[Mailbox, Path]:
    root = tmp_path / "Maildir"
    for name in ("new", "cur", "tmp"):
        (root / name).mkdir(parents=True)
    mailbox = Mailbox.objects.create(
        name="Local",
        kind=Mailbox.Kind.MAILDIR,
        pool=pool,
        from_address="support@helpdesk.test",
        maildir_path=str(root),
    )
    return mailbox, root


def _fetch_with_one_bad_mail_stores_and_processes_all(pool, tmp_path):
    mailbox, root = _maildir_mailbox(pool, tmp_path)
    for number in range(1, 5):
        (root / "new" / f"good-{number}").write_bytes(make_mail(number))
    (root / "new" / "bad").write_bytes((MESSAGES / "nul-in-headers.eml").read_bytes())

    result = ingest.fetch_mailbox(mailbox.pk)

    assert result is not None and len(result.stored) == 5
    mailbox.refresh_from_db()
    assert (mailbox.last_error, mailbox.consecutive_failures) == ("", 0)
    bad = RawMessage.objects.get(uid="bad")
    assert (bad.subject, bad.message_id) == ("Printer on fire", "<nulid@mua.example.test>")

    process_raw_messages(result.stored)
    assert set(RawMessage.objects.values_list("state", flat=True)) == {State.PROCESSED}
    bad.refresh_from_db()
    assert bad.ticket.subject == "Printer on fire"
    assert ContactEmail.objects.get(address="ana@example.test").contact.name == "Ana Nul"
    image = Attachment.objects.get(ticket=bad.ticket)
    assert (image.filename, image.content_id) == ("shot.png", "img1")
    assert "\x00" not in bad.ticket_message.body_html
    assert Ticket.objects.count() == 5

    # Nothing is left to retry: the next fetch finds nothing new and fails nothing.
    assert list((root / "new").iterdir()) == []
    again = ingest.fetch_mailbox(mailbox.pk)
    assert again is not None and (again.stored, again.duplicates) == ([], 0)


def test_a_nul_in_mail_headers_does_not_stop_the_mailbox(pool, tmp_path):
    _fetch_with_one_bad_mail_stores_and_processes_all(pool, tmp_path)


@pytest.mark.postgresql
def test_a_nul_in_mail_headers_does_not_stop_the_mailbox_on_postgresql(pool, tmp_path):
    require_postgresql()
    _fetch_with_one_bad_mail_stores_and_processes_all(pool, tmp_path)


def test_parsed_mail_carries_no_character_a_database_refuses():
    parsed = parse_message((MESSAGES / "nul-in-headers.eml").read_bytes())
    values = [
        parsed.subject,
        parsed.message_id,
        parsed.from_name,
        parsed.text,
        parsed.html,
        *(a.filename for a in parsed.attachments),
        *(a.content_id for a in parsed.attachments),
    ]
    assert not any("\x00" in value for value in values)
    # A lone surrogate (undecodable bytes) cannot be encoded for any database either.
    assert db_text("a\x00b\udce9c") == "ab\ufffdc"


def _unsaved(mailbox: Mailbox, uid: str, data: bytes, **fields) -> RawMessage:
    digest = hashlib.sha256(data).hexdigest()
    raw = RawMessage(
        mailbox=mailbox, uid=uid, message_id=f"<{uid}@test>", sha256=digest, size=len(data)
    )
    for name, value in fields.items():
        setattr(raw, name, value)
    raw.file.save(f"{digest}.eml", ContentFile(data), save=False)
    return raw


def _split_until_the_refused_message_is_alone(pool, tmp_path, subject: str, error: str):
    mailbox, _root = _maildir_mailbox(pool, tmp_path)
    # A value that escaped every cleaning: the database refuses the whole INSERT.
    raws = [_unsaved(mailbox, str(n), make_mail(n)) for n in range(1, 8)]
    raws[4] = _unsaved(mailbox, "5", make_mail(5), subject=subject)

    ingest._insert(raws)

    stored = dict(RawMessage.objects.values_list("uid", "state"))
    assert stored == {str(n): State.NEW for n in range(1, 8) if n != 5} | {"5": State.REFUSED}
    refused = RawMessage.objects.get(uid="5")
    assert refused.reason == RawMessage.Reason.UNSTORABLE
    assert error in refused.error
    assert refused.file.name  # the raw bytes are kept


def test_a_chunk_the_database_refuses_is_split_and_only_the_bad_message_is_refused(pool, tmp_path):
    # No driver can encode a lone surrogate.
    _split_until_the_refused_message_is_alone(pool, tmp_path, "Caf\udce9", "surrogates")


@pytest.mark.postgresql
def test_a_chunk_postgresql_refuses_is_split_and_only_the_bad_message_is_refused(pool, tmp_path):
    require_postgresql()
    _split_until_the_refused_message_is_alone(pool, tmp_path, "Printer\x00 on fire", "NUL")


def _undecodable_file_name_is_stored(pool, tmp_path):
    mailbox, root = _maildir_mailbox(pool, tmp_path)
    (root / "new" / "good").write_bytes(make_mail(1))
    bad_name = os.fsdecode(b"caf\xe9-2")  # not UTF-8: a lone surrogate in the name
    (root / "new" / bad_name).write_bytes(make_mail(2))

    result = ingest.fetch_mailbox(mailbox.pk)

    assert result is not None and len(result.stored) == 2
    assert set(RawMessage.objects.values_list("uid", flat=True)) == {"good", "caf\\xe9-2"}
    again = ingest.fetch_mailbox(mailbox.pk)
    assert again is not None and (again.stored, again.duplicates) == ([], 0)
    assert list((root / "new").iterdir()) == []


def test_a_maildir_file_name_that_is_not_utf8_does_not_stop_the_mailbox(pool, tmp_path):
    _undecodable_file_name_is_stored(pool, tmp_path)


@pytest.mark.postgresql
def test_a_maildir_file_name_that_is_not_utf8_does_not_stop_it_on_postgresql(pool, tmp_path):
    require_postgresql()
    _undecodable_file_name_is_stored(pool, tmp_path)
