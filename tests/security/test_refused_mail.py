"""Mail too large to take is refused, kept and shown; its sender is told once, never a robot.

A refusal nobody hears of is mail silently lost: the sender gets one notice through the
outbox (rate-limited per address, never to robots, lists, our own or suppressed addresses)
and the mailbox's admin page counts the refused mail and links to it.
"""

import pytest
from django.urls import reverse

from mailboxes import ingest
from mailboxes.models import Mailbox, OutgoingEmail, RawMessage, SuppressedAddress
from mailboxes.processing import process_raw_messages
from mailboxes.suppression import suppress_addresses
from tests.mailboxes.test_processing import build_mail, make_mailbox, receive, store_raw

State = RawMessage.State
Reason = RawMessage.Reason
MB = 2**20


@pytest.fixture
def mailbox(pool):
    mailbox = make_mailbox(pool)
    mailbox.max_message_mb = 1
    mailbox.save(update_fields=["max_message_mb"])
    return mailbox


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


def big_mail(sender="Carla Cliente <carla@example.test>", message_id="<scan@example.test>", **kw):
    return build_mail(
        sender=sender, subject="Scans", body="x" * (MB + 1000), message_id=message_id, **kw
    )


def notices():
    return OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.NOTICE)


def test_the_default_limit_is_25_mb_and_a_mailbox_may_set_its_own(settings, pool):
    assert settings.MAIL_MAX_MESSAGE_BYTES == 25 * MB
    mailbox = make_mailbox(pool)
    assert mailbox.max_message_bytes == 25 * MB
    mailbox.max_message_mb = 40
    assert mailbox.max_message_bytes == 40 * MB


@pytest.mark.parametrize("batched", [False, True], ids=["alone", "batch"])
def test_an_oversized_mail_is_refused_kept_with_its_reason_and_its_sender_told(mailbox, batched):
    if batched:
        raw = store_raw(mailbox, big_mail())
        process_raw_messages([raw.pk])
        raw.refresh_from_db()
    else:
        raw = receive(mailbox, big_mail())
    assert (raw.state, raw.reason) == (State.REFUSED, Reason.TOO_LARGE)
    assert f"over the limit of {MB} bytes" in raw.error
    assert raw.file and raw.file.size == raw.size  # the raw mail is kept whole
    assert raw.ticket is None
    notice = notices().get()
    assert notice.to == ["carla@example.test"]
    assert notice.headers["Auto-Submitted"] == "auto-replied"
    assert notice.in_reply_to == "<scan@example.test>"
    assert "Scans" in notice.subject
    assert "larger than the 1.0\xa0MB we accept" in notice.body_text


def test_a_mail_under_the_mailbox_limit_is_taken(mailbox):
    assert receive(mailbox, build_mail(body="x" * (MB // 2))).state == State.PROCESSED


def test_a_sender_refused_again_and_again_is_told_within_the_hourly_limit(mailbox, settings):
    settings.AUTO_REPLY_LIMIT_PER_HOUR = 1
    for number in range(3):
        receive(mailbox, big_mail(message_id=f"<scan-{number}@example.test>"))
    assert RawMessage.objects.filter(state=State.REFUSED).count() == 3
    assert notices().count() == 1


@pytest.mark.parametrize(
    ("sender", "headers"),
    [
        ("Carla <carla@example.test>", {"Auto-Submitted": "auto-generated"}),
        ("Carla <carla@example.test>", {"X-Autoreply": "yes"}),
        ("List <list@lists.example.test>", {"List-Id": "<scans.lists.example.test>"}),
        ("Shop <orders@shop.test>", {"Precedence": "bulk"}),
        ("Shop <no-reply@shop.test>", {}),
        ("Mailer <MAILER-DAEMON@mx.example.test>", {}),
        ("Us <support@helpdesk.test>", {}),
        ("Ghost <ghost@example.test>", {"Return-Path": "<>"}),
    ],
    ids=["auto-submitted", "x-autoreply", "list", "bulk", "no-reply", "daemon", "us", "null"],
)
def test_a_robot_whose_mail_is_refused_is_never_told(mailbox, sender, headers):
    raw = receive(mailbox, big_mail(sender=sender, headers=headers))
    assert raw.state == State.REFUSED
    assert not notices().exists()


def test_a_suppressed_sender_whose_mail_is_refused_is_not_told(mailbox):
    suppress_addresses(
        [SuppressedAddress(address="carla@example.test", reason="bounced", dsn_status="5.1.1")]
    )
    assert receive(mailbox, big_mail()).state == State.REFUSED
    assert not notices().exists()


def _maildir(tmp_path):
    root = tmp_path / "Maildir"
    for name in ("new", "cur", "tmp"):
        (root / name).mkdir(parents=True)
    return root


def test_an_oversized_mail_on_the_server_is_refused_unread_left_there_and_its_sender_told(
    pool, tmp_path
):
    root = _maildir(tmp_path)
    (root / "new" / "1700000000.M1P1.big").write_bytes(big_mail().as_bytes())
    mailbox = Mailbox.objects.create(
        name="Local",
        kind=Mailbox.Kind.MAILDIR,
        pool=pool,
        from_address="support@helpdesk.test",
        maildir_path=str(root),
        max_message_mb=1,
        # Even a mailbox that deletes what it imported keeps what it refused.
        after_import=Mailbox.AfterImport.DELETE,
    )
    result = ingest.fetch_mailbox(mailbox.pk)
    assert result.refused == 1
    raw = RawMessage.objects.get()
    assert (raw.state, raw.reason, raw.sender) == (State.REFUSED, Reason.TOO_LARGE, raw.sender)
    assert "left where it was" in raw.error
    assert [path.name for path in (root / "cur").iterdir()] == ["1700000000.M1P1.big:2,S"]
    assert notices().get().to == ["carla@example.test"]
    # Not listed again, not refused again, not told again.
    assert ingest.fetch_mailbox(mailbox.pk).refused == 0
    assert notices().count() == 1


def test_the_mailbox_admin_page_counts_refused_mail_and_links_to_it(mailbox, staff_client):
    refused = receive(mailbox, big_mail())
    receive(mailbox, build_mail(message_id="<fine@example.test>"))
    page = staff_client.get(reverse("admin:mailboxes_mailbox_change", args=[mailbox.pk]))
    html = page.content.decode()
    listing = (
        reverse("admin:mailboxes_rawmessage_changelist")
        + f"?mailbox__id__exact={mailbox.pk}&amp;state__exact=refused"
    )
    assert "1 message refused: kept, with the reason" in html
    assert listing in html
    rows = staff_client.get(listing.replace("&amp;", "&")).content.decode()
    assert reverse("admin:mailboxes_rawmessage_change", args=[refused.pk]) in rows
    mailboxes = staff_client.get(reverse("admin:mailboxes_mailbox_changelist"))
    assert "1 refused" in mailboxes.content.decode()


def test_an_agent_without_admin_rights_cannot_open_the_mailbox_admin(mailbox, agent_client):
    page = agent_client.get(reverse("admin:mailboxes_mailbox_change", args=[mailbox.pk]))
    assert page.status_code == 302


def test_a_needs_attention_note_is_shown_until_an_admin_clears_it(mailbox, staff_client):
    Mailbox.objects.filter(pk=mailbox.pk).update(attention="UIDVALIDITY changed from 1 to 2")
    url = reverse("admin:mailboxes_mailbox_change", args=[mailbox.pk])
    assert "UIDVALIDITY changed from 1 to 2" in staff_client.get(url).content.decode()
    changelist = reverse("admin:mailboxes_mailbox_changelist")
    assert "needs attention" in staff_client.get(changelist).content.decode()
    staff_client.post(changelist, {"action": "clear_attention", "_selected_action": [mailbox.pk]})
    mailbox.refresh_from_db()
    assert (mailbox.attention, mailbox.attention_at) == ("", None)
