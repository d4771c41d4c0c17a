"""Delivery status notifications (RFC 3464): a delay is noted, a permanent failure fails our
mail and suppresses the address; per recipient, and only for mail we really sent."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mailboxes.models import OutgoingEmail, RawMessage, SuppressedAddress
from mailboxes.parsing import parse_message
from mailboxes.processing import process_raw_messages
from tests.mailboxes.test_processing import build_mail, receive, store_raw
from tickets.models import ActivityLog, Ticket

Reason = RawMessage.Reason
Action = ActivityLog.Action


def report(returned_id: str, *recipients: tuple[str, str, str], subject="Delivery report"):
    """A multipart/report from a receiving MTA; recipients are (address, action, status)."""
    blocks = "".join(
        f"Final-Recipient: rfc822; {address}\r\nAction: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {status} see the status\r\n\r\n"
        for address, action, status in recipients
    )
    return (
        "From: Mail Delivery Subsystem <mailer-daemon@mx.customer.test>\r\n"
        "To: support@helpdesk.test\r\n"
        f"Subject: {subject}\r\n"
        "Message-ID: <dsn-report-77@mx.customer.test>\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="rpt"\r\n'
        "\r\n--rpt\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n"
        "This is the mail system at mx.customer.test.\r\n\r\n"
        "--rpt\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.customer.test\r\nArrival-Date: Thu, 3 Dec 2026 10:00:00 +0000\r\n"
        f"\r\n{blocks}"
        "--rpt\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: support@helpdesk.test\r\nMessage-ID: {returned_id}\r\nSubject: Re: Printer\r\n"
        "\r\n--rpt--\r\n"
    ).encode()


@pytest.fixture
def sent(mailbox):
    """A ticket and our reply on it, sent to two addresses."""
    ticket = receive(mailbox, build_mail()).ticket
    return OutgoingEmail.objects.create(
        ticket=ticket,
        mailbox=mailbox,
        from_address="support@helpdesk.test",
        to=["carla@example.test"],
        cc=["boss@example.test"],
        subject="Re: Printer on fire",
        body_text="We are on it.",
        message_id="<reply-9@helpdesk.test>",
        state=OutgoingEmail.State.SENT,
    )


def test_a_delivery_report_is_read_per_recipient():
    parsed = parse_message(
        report(
            "<reply-9@helpdesk.test>",
            ("carla@example.test", "failed", "5.1.1"),
            ("boss@example.test", "delayed", "4.4.7"),
        )
    )
    assert parsed.is_bounce
    assert parsed.bounced_message_id == "<reply-9@helpdesk.test>"
    reports = {r.recipient: r for r in parsed.delivery_reports}
    assert reports["carla@example.test"].is_permanent_failure
    assert reports["boss@example.test"].is_delay
    assert not reports["boss@example.test"].is_permanent_failure
    assert any(a.filename == "delivery-status.txt" for a in parsed.attachments)


@pytest.mark.parametrize("batched", [False, True], ids=["alone", "batch"])
def test_a_delay_notice_is_noted_on_the_ticket_but_does_not_fail_our_mail(mailbox, sent, batched):
    data = report(sent.message_id, ("carla@example.test", "delayed", "4.4.7"))
    if batched:
        raw = store_raw(mailbox, data)
        process_raw_messages([raw.pk])
        raw.refresh_from_db()
    else:
        raw = receive(mailbox, data)
    assert (raw.state, raw.reason, raw.ticket) == ("ignored", Reason.DELIVERY_DELAYED, sent.ticket)
    sent.refresh_from_db()
    assert (sent.state, sent.last_error) == (OutgoingEmail.State.SENT, "")
    history = ActivityLog.objects.filter(ticket=sent.ticket)
    delayed = history.get(action=Action.DELIVERY_DELAYED)
    assert "4.4.7" in delayed.after
    assert not history.filter(action=Action.DELIVERY_FAILED).exists()
    assert not SuppressedAddress.objects.exists()
    assert Ticket.objects.count() == 1


def test_the_ticket_page_shows_the_delay_but_no_failure(mailbox, sent, agent_client):
    receive(mailbox, report(sent.message_id, ("carla@example.test", "delayed", "4.4.7")))
    page = agent_client.get(sent.ticket.get_absolute_url()).content.decode()
    assert "Delivery delayed" in page
    assert "delivery-failed" not in page


@pytest.mark.parametrize("batched", [False, True], ids=["alone", "batch"])
def test_a_permanent_failure_fails_our_mail_and_suppresses_the_recipient(mailbox, sent, batched):
    data = report(
        sent.message_id,
        ("carla@example.test", "failed", "5.1.1"),
        ("boss@example.test", "delayed", "4.4.7"),
    )
    if batched:
        raw = store_raw(mailbox, data)
        process_raw_messages([raw.pk])
        raw.refresh_from_db()
    else:
        raw = receive(mailbox, data)
    assert (raw.state, raw.reason, raw.ticket) == ("ignored", Reason.BOUNCE, sent.ticket)
    sent.refresh_from_db()
    assert sent.state == OutgoingEmail.State.FAILED
    assert "5.1.1" in sent.last_error
    failures = ActivityLog.objects.filter(ticket=sent.ticket, action=Action.DELIVERY_FAILED)
    assert failures.count() == 1
    suppressed = SuppressedAddress.objects.get()
    assert (suppressed.address, suppressed.dsn_status) == ("carla@example.test", "5.1.1")
    assert (suppressed.bounce, suppressed.ticket) == (raw, sent.ticket)
    assert suppressed.lifted_at is None


def test_the_same_bounce_twice_suppresses_once(mailbox, sent):
    data = report(sent.message_id, ("carla@example.test", "failed", "5.1.1"))
    receive(mailbox, data)
    receive(mailbox, data.replace(b"dsn-report-77", b"dsn-report-78"))
    assert SuppressedAddress.objects.count() == 1
    assert ActivityLog.objects.filter(action=Action.DELIVERY_FAILED).count() == 1


def test_a_failure_report_for_mail_we_never_sent_suppresses_nobody(mailbox, sent):
    # Anyone can write a DSN: it must not silence a customer's address by itself.
    raw = receive(
        mailbox, report("<never-sent@helpdesk.test>", ("carla@example.test", "failed", "5.1.1"))
    )
    assert (raw.state, raw.reason, raw.ticket) == ("ignored", Reason.BOUNCE, None)
    assert not SuppressedAddress.objects.exists()


def test_a_failure_report_naming_someone_we_did_not_mail_suppresses_nobody(mailbox, sent):
    receive(mailbox, report(sent.message_id, ("victim@example.test", "failed", "5.1.1")))
    assert not SuppressedAddress.objects.exists()


def test_a_success_report_changes_nothing(mailbox, sent):
    raw = receive(mailbox, report(sent.message_id, ("carla@example.test", "delivered", "2.0.0")))
    assert (raw.state, raw.reason) == ("ignored", Reason.BOUNCE)
    sent.refresh_from_db()
    assert sent.state == OutgoingEmail.State.SENT
    assert not ActivityLog.objects.filter(
        action__in=[Action.DELIVERY_DELAYED, Action.DELIVERY_FAILED]
    ).exists()
    assert not SuppressedAddress.objects.exists()


def test_a_final_failure_after_retries_fails_our_mail_but_suppresses_only_on_5xx(mailbox, sent):
    # "failed" with 4.4.7: the server gave up after retrying (expired), not a dead address.
    receive(mailbox, report(sent.message_id, ("carla@example.test", "failed", "4.4.7")))
    sent.refresh_from_db()
    assert sent.state == OutgoingEmail.State.FAILED
    assert not SuppressedAddress.objects.exists()


def test_the_address_we_mailed_is_read_before_the_one_it_was_forwarded_to():
    data = report("<reply-9@helpdesk.test>", ("carla.c@mail.example.test", "failed", "5.1.1"))
    data = data.replace(
        b"Final-Recipient: rfc822; carla.c@mail.example.test",
        b"Original-Recipient: rfc822;<Carla@Example.test>\r\n"
        b"Final-Recipient: rfc822; carla.c@mail.example.test",
    )
    [found] = parse_message(data).delivery_reports
    assert (found.recipient, found.status) == ("carla@example.test", "5.1.1")


def _bounces_in_one_batch(mailbox, data: list[bytes]) -> tuple[list[RawMessage], int]:
    """Process stored bounces together; the rows as they are now and the queries it took."""
    raws = [store_raw(mailbox, item) for item in data]
    with CaptureQueriesContext(connection) as queries:
        process_raw_messages([raw.pk for raw in raws])
    return [RawMessage.objects.get(pk=raw.pk) for raw in raws], len(queries)


def _another(sent: OutgoingEmail, number: int) -> OutgoingEmail:
    return OutgoingEmail.objects.create(
        ticket=sent.ticket,
        mailbox=sent.mailbox,
        from_address=sent.from_address,
        to=[f"other{number}@example.test"],
        subject=sent.subject,
        body_text="Also.",
        message_id=f"<reply-{number}0@helpdesk.test>",
        state=OutgoingEmail.State.SENT,
    )


def test_many_bounces_in_one_batch_cost_the_queries_of_one(mailbox, sent):
    def dsn(outgoing, status, number):
        action = "delayed" if status.startswith("4.") else "failed"
        data = report(outgoing.message_id, (outgoing.to[0], action, status))
        return data.replace(b"dsn-report-77", f"dsn-report-{number}".encode())

    first = _another(sent, 1)
    delayed = _another(sent, 2)
    one, one_queries = _bounces_in_one_batch(
        mailbox, [dsn(first, "5.1.1", 1), dsn(delayed, "4.4.7", 2)]
    )
    assert [(raw.reason, raw.ticket) for raw in one] == [
        (Reason.BOUNCE, sent.ticket),
        (Reason.DELIVERY_DELAYED, sent.ticket),
    ]
    rows = [_another(sent, number) for number in range(3, 9)]
    data = [dsn(row, "5.1.1", number) for number, row in enumerate(rows[:4], start=10)]
    data += [dsn(rows[0], "5.1.1", 20)]  # the same row bounced twice: failed and logged once
    data += [dsn(row, "4.4.7", number) for number, row in enumerate(rows[4:], start=30)]

    many, many_queries = _bounces_in_one_batch(mailbox, data)

    assert many_queries == one_queries
    assert [raw.reason for raw in many] == [Reason.BOUNCE] * 5 + [Reason.DELIVERY_DELAYED] * 2
    assert {raw.ticket for raw in many} == {sent.ticket}
    failed = OutgoingEmail.objects.filter(state=OutgoingEmail.State.FAILED)
    assert set(failed) == {first, *rows[:4]}
    assert all("5.1.1" in row.last_error for row in failed)
    logged = ActivityLog.objects.filter(ticket=sent.ticket)
    assert logged.filter(action=Action.DELIVERY_FAILED).count() == 5
    assert logged.filter(action=Action.DELIVERY_DELAYED).count() == 3
    assert set(SuppressedAddress.objects.values_list("address", flat=True)) == {
        row.to[0] for row in [first, *rows[:4]]
    }
