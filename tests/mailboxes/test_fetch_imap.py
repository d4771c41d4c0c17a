"""IMAP against a real Dovecot: store first, then flag/move/delete, never twice."""

import pytest
from django.urls import reverse
from imapclient import SEEN

from mailboxes import ingest
from mailboxes.fetchers.imap import ImapFetcher
from mailboxes.models import Mailbox, OutgoingEmail, RawMessage
from tests.mailboxes.conftest import make_mail


def _processing_available():
    from mailboxes import processing

    return hasattr(processing, "process_raw_messages")


def _server_state(dovecot, user, folder="INBOX"):
    """{Message-ID: flags} of what is left in a folder on the server."""
    with dovecot.imap(user) as client:
        if not client.folder_exists(folder):
            return {}
        client.select_folder(folder, readonly=True)
        uids = client.search(["NOT", "DELETED"])
        fetched = client.fetch(uids, ["FLAGS", "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)]"])
    return {
        data[b"BODY[HEADER.FIELDS (MESSAGE-ID)]"].decode().split(":", 1)[1].strip(): data[b"FLAGS"]
        for data in fetched.values()
    }


def test_mail_appended_to_imap_becomes_raw_messages_and_is_flagged_seen(
    dovecot, mail_user, make_mailbox
):
    dovecot.append(mail_user, make_mail(1), make_mail(2))
    mailbox = make_mailbox()

    result = ingest.fetch_mailbox(mailbox.pk)

    assert len(result.stored) == 2
    raws = RawMessage.objects.filter(mailbox=mailbox).order_by("message_id")
    assert [r.message_id for r in raws] == ["<message-1@example.test>", "<message-2@example.test>"]
    first = raws[0]
    assert first.subject == "Printer 1 is on fire"
    assert first.sender == "Customer 1 <customer1@example.test>"
    assert first.state == RawMessage.State.NEW
    with first.file.open("rb") as stored:
        assert stored.read() == make_mail(1).replace(b"\n", b"\r\n")
    mailbox.refresh_from_db()
    assert first.uid.startswith(f"{mailbox.uidvalidity}:")
    assert mailbox.last_success_at is not None
    assert mailbox.consecutive_failures == 0
    assert all(SEEN in flags for flags in _server_state(dovecot, mail_user).values())
    assert ingest.fetch_mailbox(mailbox.pk).stored == []


def test_fetched_imap_mail_becomes_tickets(dovecot, mail_user, make_mailbox):
    if not _processing_available():
        pytest.skip("mailboxes.processing has not landed yet")
    from mailboxes.processing import process_raw_messages

    dovecot.append(mail_user, make_mail(1))
    mailbox = make_mailbox()
    (raw_id,) = ingest.fetch_mailbox(mailbox.pk).stored

    raw = process_raw_messages([raw_id])[0]

    assert raw.state == RawMessage.State.PROCESSED
    assert raw.ticket.pool == mailbox.pool


def test_move_to_folder_option_moves_imported_mail(dovecot, mail_user, make_mailbox):
    dovecot.append(mail_user, make_mail(1))
    mailbox = make_mailbox(after_import=Mailbox.AfterImport.MOVE, move_to_folder="Imported")

    ingest.fetch_mailbox(mailbox.pk)

    assert RawMessage.objects.filter(mailbox=mailbox).count() == 1
    assert _server_state(dovecot, mail_user) == {}
    assert list(_server_state(dovecot, mail_user, "Imported")) == ["<message-1@example.test>"]


def test_delete_option_removes_imported_mail_from_the_server(dovecot, mail_user, make_mailbox):
    dovecot.append(mail_user, make_mail(1), make_mail(2))
    mailbox = make_mailbox(after_import=Mailbox.AfterImport.DELETE)

    ingest.fetch_mailbox(mailbox.pk)

    assert RawMessage.objects.filter(mailbox=mailbox).count() == 2
    assert _server_state(dovecot, mail_user) == {}


def test_worker_killed_between_store_and_mark_reruns_without_duplicate(
    dovecot, mail_user, make_mailbox, monkeypatch
):
    dovecot.append(mail_user, make_mail(1))
    mailbox = make_mailbox()
    real_mark_done = ImapFetcher.mark_done
    fetched = []

    def killed(self, uid):
        raise SystemExit("worker killed")

    monkeypatch.setattr(ImapFetcher, "mark_done", killed)
    with pytest.raises(SystemExit):
        ingest.fetch_mailbox(mailbox.pk)
    assert RawMessage.objects.filter(mailbox=mailbox).count() == 1
    assert SEEN not in _server_state(dovecot, mail_user)["<message-1@example.test>"]

    monkeypatch.setattr(ImapFetcher, "mark_done", real_mark_done)
    real_fetch = ImapFetcher.fetch
    monkeypatch.setattr(
        ImapFetcher, "fetch", lambda self, uid: fetched.append(uid) or real_fetch(self, uid)
    )
    result = ingest.fetch_mailbox(mailbox.pk)

    assert result.stored == []
    assert result.duplicates == 1
    assert fetched == [], "a stored message is marked without downloading it again"
    assert RawMessage.objects.filter(mailbox=mailbox).count() == 1
    assert SEEN in _server_state(dovecot, mail_user)["<message-1@example.test>"]


def test_uidvalidity_change_does_not_reimport_the_box(dovecot, mail_user, make_mailbox):
    dovecot.append(mail_user, make_mail(1), make_mail(2), folder="Support")
    mailbox = make_mailbox(folder="Support")
    ingest.fetch_mailbox(mailbox.pk)
    mailbox.refresh_from_db()
    old_validity = mailbox.uidvalidity
    # The server loses its index: the folder is recreated with the same mail, unseen,
    # under a new UIDVALIDITY, plus one message that really is new.
    with dovecot.imap(mail_user) as client:
        client.delete_folder("Support")
    dovecot.append(mail_user, make_mail(1), make_mail(2), make_mail(3), folder="Support")

    result = ingest.fetch_mailbox(mailbox.pk)

    mailbox.refresh_from_db()
    assert mailbox.uidvalidity != old_validity
    assert len(result.stored) == 1
    assert result.duplicates == 2
    assert RawMessage.objects.filter(mailbox=mailbox).count() == 3
    assert RawMessage.objects.get(message_id="<message-3@example.test>").uid.startswith(
        f"{mailbox.uidvalidity}:"
    )
    assert all(SEEN in flags for flags in _server_state(dovecot, mail_user, "Support").values())


def test_a_uidvalidity_change_is_shown_to_admins_on_the_mailbox(
    dovecot, mail_user, make_mailbox, client, admin_user
):
    dovecot.append(mail_user, make_mail(1), folder="Support")
    mailbox = make_mailbox(folder="Support")
    ingest.fetch_mailbox(mailbox.pk)
    mailbox.refresh_from_db()
    assert mailbox.attention == ""  # the first UIDVALIDITY we see is no change
    old_validity = mailbox.uidvalidity
    with dovecot.imap(mail_user) as imap:
        imap.delete_folder("Support")
    dovecot.append(mail_user, make_mail(1), folder="Support")

    ingest.fetch_mailbox(mailbox.pk)

    mailbox.refresh_from_db()
    assert f"from {old_validity} to {mailbox.uidvalidity}" in mailbox.attention
    assert mailbox.attention_at is not None
    client.force_login(admin_user)
    page = client.get(reverse("admin:mailboxes_mailbox_change", args=[mailbox.pk]))
    assert f"from {old_validity} to {mailbox.uidvalidity}" in page.content.decode()
    listing = client.get(reverse("admin:mailboxes_mailbox_changelist")).content.decode()
    assert "needs attention" in listing


def test_oversized_message_is_refused_left_on_the_server_and_its_sender_told(
    dovecot, mail_user, make_mailbox, settings
):
    settings.MAIL_MAX_MESSAGE_BYTES = 5000
    dovecot.append(mail_user, make_mail(1, subject="Huge scan", body="x" * 10_000))
    # Even a mailbox that deletes what it imported keeps what it refused, on the server.
    mailbox = make_mailbox(after_import=Mailbox.AfterImport.DELETE)

    assert ingest.fetch_mailbox(mailbox.pk).refused == 1

    assert list(_server_state(dovecot, mail_user)) == ["<message-1@example.test>"]
    assert SEEN in _server_state(dovecot, mail_user)["<message-1@example.test>"]
    notice = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.NOTICE)
    assert notice.to == ["customer1@example.test"]
    assert ingest.fetch_mailbox(mailbox.pk).refused == 0  # listed again, refused once
    assert OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.NOTICE).count() == 1
    assert list(_server_state(dovecot, mail_user)) == ["<message-1@example.test>"]


def test_after_a_uidvalidity_change_a_different_mail_reusing_a_message_id_is_still_fetched(
    dovecot, mail_user, make_mailbox, monkeypatch
):
    dovecot.append(mail_user, make_mail(1), folder="Support")
    mailbox = make_mailbox(folder="Support")
    ingest.fetch_mailbox(mailbox.pk)
    with dovecot.imap(mail_user) as client:
        client.delete_folder("Support")
    reused = make_mail(2, message_id="<message-1@example.test>", body="Another mail entirely.\n")
    dovecot.append(mail_user, make_mail(1), reused, folder="Support")
    fetched = []
    real_fetch = ImapFetcher.fetch
    monkeypatch.setattr(
        ImapFetcher, "fetch", lambda self, uid: fetched.append(uid) or real_fetch(self, uid)
    )

    result = ingest.fetch_mailbox(mailbox.pk)

    assert len(fetched) == 1, "the mail we have is recognised from its headers"
    assert len(result.stored) == 1
    assert RawMessage.objects.get(pk=result.stored[0]).reused_message_id


def test_oversized_message_is_refused_with_a_record_and_never_downloaded(
    dovecot, mail_user, make_mailbox, settings, monkeypatch
):
    settings.MAIL_MAX_MESSAGE_BYTES = 5000
    big = make_mail(1, subject="Huge scan", body="x" * 10_000)
    dovecot.append(mail_user, big, make_mail(2))
    mailbox = make_mailbox()
    fetched = []
    real_fetch = ImapFetcher.fetch
    monkeypatch.setattr(
        ImapFetcher, "fetch", lambda self, uid: fetched.append(uid) or real_fetch(self, uid)
    )

    result = ingest.fetch_mailbox(mailbox.pk)

    assert result.refused == 1
    refused = RawMessage.objects.get(state=RawMessage.State.REFUSED)
    assert refused.reason == RawMessage.Reason.TOO_LARGE
    assert refused.size > 10_000
    assert refused.subject == "Huge scan"
    assert refused.message_id == "<message-1@example.test>"
    assert not refused.file
    assert refused.uid not in fetched
    assert len(fetched) == 1
    assert all(SEEN in flags for flags in _server_state(dovecot, mail_user).values())
    assert ingest.fetch_mailbox(mailbox.pk).refused == 0
