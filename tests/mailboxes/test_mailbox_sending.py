"""Each mailbox sends as itself: mail about a ticket leaves From the mailbox it came in by,
through that mailbox's own SMTP account (password or XOAUTH2), else the site's."""

from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path

import pytest
from django.utils import timezone

from mailboxes import ingest, outbound, processing
from mailboxes.models import Mailbox, OAuthConnection, OutgoingEmail
from tests.mailboxes.conftest import make_mail
from tests.mailboxes.oauth_provider import Grant
from tests.mailboxes.smtp_sink import AuthSmtpSink, free_port, running_auth_sink
from tickets import services
from tickets.models import Ticket

SMTP_PASSWORD = "smtp-password-a"


@pytest.fixture
def sink_a():
    with running_auth_sink(AuthSmtpSink(port=free_port(), password=SMTP_PASSWORD)) as sink:
        yield sink


@pytest.fixture
def sink_b(oauth_provider):
    sink = AuthSmtpSink(port=free_port(), introspection_url=f"{oauth_provider.url}/introspect")
    with running_auth_sink(sink) as running:
        yield running


def _maildir_mailbox(pool, tmp_path, name, address, **smtp) -> Mailbox:
    root = tmp_path / name
    for folder in ("new", "cur", "tmp"):
        (root / folder).mkdir(parents=True)
    return Mailbox.objects.create(
        name=name,
        pool=pool,
        kind=Mailbox.Kind.MAILDIR,
        maildir_path=str(root),
        from_address=address,
        from_name=name.title(),
        **smtp,
    )


@pytest.fixture
def mailboxes(pool, tmp_path, sink_a, sink_b, oauth_provider):
    """Three mailboxes of one pool: A with a password SMTP account, B with XOAUTH2, C none."""
    mailbox_a = _maildir_mailbox(
        pool,
        tmp_path,
        "alpha",
        "alpha@acme.test",
        smtp_host="127.0.0.1",
        smtp_port=sink_a.port,
        smtp_security=Mailbox.Security.NONE,
        smtp_username="alpha@acme.test",
        smtp_password=SMTP_PASSWORD,
    )
    mailbox_b = _maildir_mailbox(
        pool,
        tmp_path,
        "bravo",
        "bravo@acme.test",
        smtp_host="127.0.0.1",
        smtp_port=sink_b.port,
        smtp_security=Mailbox.Security.NONE,
    )
    token = oauth_provider.issue(Grant("bravo@acme.test", "helpdesk", "mail"))
    OAuthConnection.objects.create(
        mailbox=mailbox_b,
        provider="generic",
        account="bravo@acme.test",
        access_token=token["access_token"],
        refresh_token=token["refresh_token"],
        expires_at=timezone.now() + timedelta(hours=1),
    )
    mailbox_c = _maildir_mailbox(pool, tmp_path, "charlie", "charlie@acme.test")
    return mailbox_a, mailbox_b, mailbox_c


def _receive(mailbox: Mailbox, number: int) -> Ticket:
    """A customer's mail arrives in the mailbox and becomes a ticket (auto-reply queued)."""
    (Path(mailbox.maildir_path) / "new" / f"{number}.eml").write_bytes(make_mail(number))
    result = ingest.fetch_mailbox(mailbox.pk)
    processing.process_raw_messages(result.stored)
    return Ticket.objects.get(raw_messages__mailbox=mailbox)


def _queued_ids() -> list[int]:
    return list(OutgoingEmail.objects.filter(state="queued").values_list("pk", flat=True))


def test_replies_auto_replies_and_notifications_leave_through_their_mailboxes_account(
    mailboxes, sink_a, sink_b, sink, agent
):
    mailbox_a, mailbox_b, mailbox_c = mailboxes
    tickets = {box.pk: _receive(box, number) for number, box in enumerate(mailboxes, 1)}
    for box in mailboxes:
        ticket = tickets[box.pk]
        outbound.queue_reply(services.add_reply(ticket, author=agent, body="On it."))
        outbound.queue_notification(
            ticket, to=["boss@acme.test"], subject="Escalated", body_text="Look."
        )
    ids = _queued_ids()
    assert len(ids) == 9  # an auto-reply, a reply and a notification per ticket

    assert outbound.send_outgoing_emails(ids) == set(ids)

    for box, server in ((mailbox_a, sink_a), (mailbox_b, sink_b), (mailbox_c, sink)):
        assert len(server.envelopes) == 3, box.name
        tag = f"[#{tickets[box.pk].number}]"
        for envelope in server.envelopes:
            assert parseaddr(envelope.message["From"])[1] == box.from_address
            assert envelope.mail_from == box.from_address
            assert tag in envelope.message["Subject"]
    # One sign-in per account for the batch: the rows shared a connection.
    assert sink_a.logins == [("alpha@acme.test", "PLAIN")]
    assert sink_b.logins == [("bravo@acme.test", "XOAUTH2")]


def test_one_accounts_failure_leaves_the_others_mail_going(mailboxes, sink_b, agent):
    mailbox_a, mailbox_b, _mailbox_c = mailboxes
    Mailbox.objects.filter(pk=mailbox_a.pk).update(smtp_port=free_port())  # nobody there
    _receive(mailbox_a, 1)
    _receive(mailbox_b, 2)
    ids = _queued_ids()

    sent = outbound.send_outgoing_emails(ids)

    [bravo_row] = OutgoingEmail.objects.filter(mailbox=mailbox_b)
    [alpha_row] = OutgoingEmail.objects.filter(mailbox=mailbox_a)
    assert sent == {bravo_row.pk}
    assert len(sink_b.envelopes) == 1
    alpha_row.refresh_from_db()
    assert alpha_row.state == OutgoingEmail.State.RETRY


def test_an_expiring_token_is_refreshed_before_the_send(mailboxes, sink_b, oauth_provider, agent):
    _mailbox_a, mailbox_b, _mailbox_c = mailboxes
    oauth_provider.expire_access_tokens()
    OAuthConnection.objects.filter(mailbox=mailbox_b).update(
        expires_at=timezone.now() + timedelta(seconds=10)
    )
    refreshes = oauth_provider.refreshes()
    _receive(mailbox_b, 1)

    assert outbound.send_outgoing_emails(_queued_ids())
    assert oauth_provider.refreshes() == refreshes + 1
    assert sink_b.logins == [("bravo@acme.test", "XOAUTH2")]


def test_a_token_the_smtp_server_refuses_is_retried_not_sent_unauthenticated(
    mailboxes, sink_b, oauth_provider
):
    _mailbox_a, mailbox_b, _mailbox_c = mailboxes
    connection = OAuthConnection.objects.get(mailbox=mailbox_b)
    oauth_provider.refresh_tokens[connection.refresh_token].revoked = True
    _receive(mailbox_b, 1)
    [row] = OutgoingEmail.objects.filter(mailbox=mailbox_b)

    assert outbound.send_outgoing_emails([row.pk]) == set()

    row.refresh_from_db()
    assert row.state == OutgoingEmail.State.RETRY
    assert sink_b.envelopes == []
    mailbox_b.refresh_from_db()
    assert "refused to renew" in mailbox_b.attention
