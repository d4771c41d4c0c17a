"""POP3 by UIDL against a real Dovecot."""

import poplib

from mailboxes import ingest
from mailboxes.models import Mailbox, RawMessage
from tests.mailboxes.conftest import make_mail
from tests.mailboxes.servers import PASSWORD


def _left_on_server(dovecot, user) -> int:
    client = poplib.POP3(dovecot.host, dovecot.pop3_port, timeout=10)
    try:
        client.user(user)
        client.pass_(PASSWORD)
        return client.stat()[0]
    finally:
        client.quit()


def test_pop3_by_uidl_imports_once_and_a_second_fetch_imports_nothing(
    dovecot, mail_user, make_mailbox
):
    dovecot.append(mail_user, make_mail(1), make_mail(2))
    mailbox = make_mailbox(kind=Mailbox.Kind.POP3)

    first = ingest.fetch_mailbox(mailbox.pk)
    dovecot.append(mail_user, make_mail(3))
    second = ingest.fetch_mailbox(mailbox.pk)
    third = ingest.fetch_mailbox(mailbox.pk)

    assert len(first.stored) == 2
    assert len(second.stored) == 1
    assert third.stored == []
    assert third.duplicates == 0, "kept mail is remembered by its row, not re-marked"
    uids = set(RawMessage.objects.filter(mailbox=mailbox).values_list("uid", flat=True))
    assert len(uids) == 3
    assert _left_on_server(dovecot, mail_user) == 3, "POP3 keeps mail unless told to delete"


def test_pop3_delete_option_deletes_only_stored_mail(dovecot, mail_user, make_mailbox):
    dovecot.append(mail_user, make_mail(1), make_mail(2))
    mailbox = make_mailbox(kind=Mailbox.Kind.POP3, after_import=Mailbox.AfterImport.DELETE)

    result = ingest.fetch_mailbox(mailbox.pk)

    assert len(result.stored) == 2
    assert RawMessage.objects.filter(mailbox=mailbox).count() == 2
    assert _left_on_server(dovecot, mail_user) == 0


def test_pop3_message_bytes_are_stored_exactly(dovecot, mail_user, make_mailbox):
    # Lines starting with a dot are byte-stuffed on the wire and must come back unstuffed.
    mail = make_mail(1, body=".hidden line\n..two dots\nend\n")
    dovecot.append(mail_user, mail)
    mailbox = make_mailbox(kind=Mailbox.Kind.POP3)

    ingest.fetch_mailbox(mailbox.pk)

    raw = RawMessage.objects.get(mailbox=mailbox)
    with raw.file.open("rb") as stored:
        assert stored.read() == mail.replace(b"\n", b"\r\n")
