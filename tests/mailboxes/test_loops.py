"""Loop protection: robots are not answered, our own mail is not re-imported, bounces are
linked to the ticket whose mail bounced, lists open no ticket unless the mailbox opts in,
and out-of-office replies never touch a ticket."""

import pytest

from mailboxes.loops import carries_our_message_id, make_message_id, may_auto_reply
from mailboxes.models import OutgoingEmail, RawMessage
from mailboxes.parsing import parse_message
from mailboxes.processing import process_raw_messages
from tests.mailboxes.test_processing import build_mail, receive, store_raw
from tickets import services
from tickets.models import ActivityLog, Ticket
from tickets.states import Status

Reason = RawMessage.Reason


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"Auto-Submitted": "auto-generated; owner-email=x@y.test"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "Out of office"},
        {"Precedence": "auto_reply"},
    ],
    ids=lambda headers: next(iter(headers)),
)
def test_automatic_replies_are_ignored_with_a_reason(mailbox, headers):
    raw = receive(mailbox, build_mail(subject="Out of office", headers=headers))
    assert (raw.state, raw.reason) == ("ignored", Reason.AUTO_REPLY)
    assert Ticket.objects.count() == 0


def test_auto_submitted_no_is_a_person(mailbox):
    raw = receive(mailbox, build_mail(headers={"Auto-Submitted": "no"}))
    assert raw.state == "processed"


@pytest.mark.parametrize(
    "sender", ["support@helpdesk.test", "Support <SUPPORT+t12-abcdef0123@helpdesk.test>"]
)
def test_mail_from_our_own_address_is_ignored(mailbox, sender):
    raw = receive(mailbox, build_mail(sender=sender))
    assert (raw.state, raw.reason) == ("ignored", Reason.OWN_MAIL)


def test_mail_carrying_one_of_our_message_ids_is_ignored(mailbox):
    OutgoingEmail.objects.create(
        from_address="support@helpdesk.test",
        to=["x@example.test"],
        subject="s",
        body_text="b",
        message_id="<ours-7@helpdesk.test>",
    )
    raw = receive(mailbox, build_mail(message_id="<ours-7@helpdesk.test>"))
    assert (raw.state, raw.reason) == ("ignored", Reason.OWN_MAIL)


def _bounce(returned_id: str) -> bytes:
    head = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.test>\r\n"
        "To: support@helpdesk.test\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.example.test>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n\r\n"
    )
    body = (
        "--b\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx\r\n\r\n"
        "Final-Recipient: rfc822; carla@example.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
        "--b\r\nContent-Type: message/rfc822\r\n\r\n"
        f"From: support@helpdesk.test\r\nMessage-ID: {returned_id}\r\nSubject: Re: x\r\n\r\nhi\r\n"
        "--b--\r\n"
    )
    return (head + body).encode()


def test_a_bounce_is_ignored_and_linked_to_the_ticket_whose_mail_bounced(mailbox):
    ticket = receive(mailbox, build_mail()).ticket
    outgoing = OutgoingEmail.objects.create(
        ticket=ticket,
        from_address="support@helpdesk.test",
        to=["carla@example.test"],
        subject="Re: Printer on fire",
        body_text="We are on it.",
        message_id="<ours-2@helpdesk.test>",
        state=OutgoingEmail.State.SENT,
    )
    raw = receive(mailbox, _bounce("<ours-2@helpdesk.test>"))
    assert (raw.state, raw.reason, raw.ticket) == ("ignored", Reason.BOUNCE, ticket)
    outgoing.refresh_from_db()
    assert outgoing.state == "failed"
    assert outgoing.last_error == "bounced carla@example.test 5.1.1"
    failures = ActivityLog.objects.filter(ticket=ticket, action=ActivityLog.Action.DELIVERY_FAILED)
    assert failures.count() == 1
    assert Ticket.objects.count() == 1


def test_a_bounce_of_unknown_mail_is_kept_as_ignored(mailbox):
    raw = receive(mailbox, _bounce("<never-sent@helpdesk.test>"))
    assert (raw.state, raw.reason, raw.ticket) == ("ignored", Reason.BOUNCE, None)


@pytest.mark.parametrize(
    "headers",
    [
        {"List-Id": "<users.lists.example.test>"},
        {"List-Unsubscribe": "<mailto:leave@lists.example.test>"},
        {"Precedence": "bulk"},
        {"Precedence": "junk"},
        {"Precedence": "list"},
        {"X-Auto-Response-Suppress": "OOF, AutoReply"},
        {"X-Auto-Response-Suppress": "All"},
    ],
    ids=lambda headers: ";".join(f"{name}={value}" for name, value in headers.items()),
)
def test_lists_bulk_and_suppressing_senders_get_no_auto_reply(headers):
    parsed = parse_message(build_mail(headers=headers).as_bytes())
    assert may_auto_reply(parsed) is False


def test_a_person_writing_directly_may_get_an_auto_reply():
    assert may_auto_reply(parse_message(build_mail().as_bytes())) is True


def test_a_new_ticket_is_acknowledged_once_and_a_reply_is_not(mailbox):
    receive(mailbox, build_mail())
    receive(
        mailbox,
        build_mail(
            message_id="<second@example.test>", headers={"In-Reply-To": "<first@example.test>"}
        ),
    )
    auto_replies = OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.AUTO_REPLY)
    assert list(auto_replies.values_list("to", flat=True)) == [["carla@example.test"]]


def test_a_list_mail_becomes_a_ticket_without_an_auto_reply_when_the_mailbox_opts_in(mailbox):
    mailbox.accept_bulk_mail = True
    mailbox.save(update_fields=["accept_bulk_mail"])
    raw = receive(mailbox, build_mail(headers={"List-Id": "<users.lists.example.test>"}))
    assert raw.state == "processed"
    assert not OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.AUTO_REPLY).exists()


# --- lists, bulk mail and null senders open no ticket unless the mailbox opts in ----------

BULK_HEADERS = [
    {"Precedence": "junk"},
    {"Precedence": "list"},
    {"Precedence": "bulk"},
    {"List-Id": "Customers <customers.lists.example.test>"},
    {"Return-Path": "<>"},
]


def _bulk_id(headers):
    return ";".join(f"{name}={value}" for name, value in headers.items())


@pytest.mark.parametrize("headers", BULK_HEADERS, ids=_bulk_id)
def test_list_bulk_and_null_sender_mail_is_kept_but_opens_no_ticket(mailbox, headers):
    raw = receive(mailbox, build_mail(subject="Weekly digest", headers=headers))
    assert (raw.state, raw.reason) == ("ignored", Reason.BULK)
    assert raw.file  # kept, with the reason shown in the admin
    assert Ticket.objects.count() == 0
    assert not OutgoingEmail.objects.exists()


@pytest.mark.parametrize("headers", BULK_HEADERS, ids=_bulk_id)
def test_list_bulk_and_null_sender_mail_opens_no_ticket_in_a_batch_either(mailbox, headers):
    raws = [
        store_raw(mailbox, build_mail(headers=headers)),
        store_raw(mailbox, build_mail(message_id="<person@example.test>")),
    ]
    process_raw_messages([raw.pk for raw in raws])
    states = {raw.pk: (raw.state, raw.reason) for raw in RawMessage.objects.all()}
    assert states[raws[0].pk] == ("ignored", Reason.BULK)
    assert states[raws[1].pk] == ("processed", Reason.NONE)
    assert Ticket.objects.count() == 1


@pytest.mark.parametrize("headers", BULK_HEADERS, ids=_bulk_id)
def test_a_mailbox_that_opts_in_opens_tickets_from_list_mail_and_never_answers_it(mailbox, headers):
    mailbox.accept_bulk_mail = True
    mailbox.save(update_fields=["accept_bulk_mail"])
    raw = receive(mailbox, build_mail(headers=headers))
    assert raw.state == "processed"
    assert raw.ticket is not None
    assert not OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.AUTO_REPLY).exists()


# --- loops: our own Message-IDs, and mail that crossed too many servers ---------------------


def test_mail_whose_message_id_we_minted_is_a_loop_and_never_answered(mailbox):
    # Not in our outbox (an old row, another instance): the shape and domain tell.
    ours = make_message_id("support@helpdesk.test")
    raw = receive(mailbox, build_mail(message_id=ours))
    assert (raw.state, raw.reason) == ("ignored", Reason.LOOP)
    assert Ticket.objects.count() == 0
    assert not OutgoingEmail.objects.exists()


def test_mail_whose_message_id_we_minted_is_a_loop_in_a_batch_too(mailbox):
    raw = store_raw(mailbox, build_mail(message_id=make_message_id("support@helpdesk.test")))
    process_raw_messages([raw.pk])
    raw.refresh_from_db()
    assert (raw.state, raw.reason) == ("ignored", Reason.LOOP)
    assert not OutgoingEmail.objects.exists()


def test_every_mail_we_send_carries_a_message_id_we_recognise_as_ours(mailbox):
    ticket = receive(mailbox, build_mail()).ticket
    auto_reply = OutgoingEmail.objects.get(ticket=ticket, kind=OutgoingEmail.Kind.AUTO_REPLY)
    assert carries_our_message_id(auto_reply.message_id, {"support@helpdesk.test"})


@pytest.mark.parametrize(
    "message_id",
    [
        "<1b2c3d4e-5f60-4a1b-9c2d-3e4f5a6b7c8d@helpdesk.test>",  # a colleague's Thunderbird
        "<176480.1234.987654321@helpdesk.test>",  # make_msgid's shape, without our marker
        "<176480.1234.987654321.helpdesk@elsewhere.example>",  # our marker, not our domain
    ],
)
def test_a_message_id_at_our_domain_that_we_did_not_mint_is_not_a_loop(mailbox, message_id):
    raw = receive(mailbox, build_mail(message_id=message_id))
    assert raw.state == "processed"


def _with_hops(count: int):
    mail = build_mail()
    for hop in range(count):
        mail["Received"] = f"from relay{hop}.example.test by relay{hop + 1}.example.test"
    return mail


def test_mail_that_crossed_an_absurd_number_of_servers_is_a_loop(mailbox, settings):
    assert settings.MAIL_MAX_RECEIVED_HEADERS == 50
    raw = receive(mailbox, _with_hops(51))
    assert (raw.state, raw.reason) == ("ignored", Reason.LOOP)
    assert not OutgoingEmail.objects.exists()


def test_mail_with_an_ordinary_number_of_hops_is_a_person(mailbox):
    assert receive(mailbox, _with_hops(12)).state == "processed"


# --- vacation and out-of-office replies never touch a ticket -------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Auto-Submitted": "auto-replied"},
        {"X-Autoreply": "yes"},
        {"X-Autorespond": "Out of office"},
        {"Precedence": "auto_reply"},
    ],
    ids=lambda headers: next(iter(headers)),
)
@pytest.mark.parametrize("batched", [False, True], ids=["alone", "batch"])
def test_an_out_of_office_reply_never_reopens_or_changes_a_ticket(
    mailbox, supervisor, headers, batched
):
    ticket = receive(mailbox, build_mail()).ticket
    services.change_status(ticket, to=Status.CLOSED, actor=supervisor)
    ticket.refresh_from_db()
    before = (ticket.status, ticket.updated_at, ticket.messages.count(), ticket.activity.count())
    reply = build_mail(
        subject=f"Out of office: Re: Printer on fire {ticket.tag_label}",
        message_id="<ooo@example.test>",
        headers={"In-Reply-To": "<first@example.test>", **headers},
    )
    if batched:
        raw = store_raw(mailbox, reply)
        process_raw_messages([raw.pk])
        raw.refresh_from_db()
    else:
        raw = receive(mailbox, reply)
    assert (raw.state, raw.reason) == ("ignored", Reason.AUTO_REPLY)
    ticket.refresh_from_db()
    after = (ticket.status, ticket.updated_at, ticket.messages.count(), ticket.activity.count())
    assert after == before
    assert ticket.status == Status.CLOSED
