"""Crafted From headers (CVE-2023-27043 and kin) never decide identity: an ambiguous sender
is unknown, so no contact is created or matched from it."""

import pytest

from mailboxes.models import RawMessage
from mailboxes.parsing import parse_message
from people.models import ContactEmail
from tests.mailboxes.test_processing import make_mailbox, receive
from tickets.models import Ticket

ATTACKS = [
    "alice@a.test)<mallory@evil.test>",
    "alice@a.test <mallory@evil.test>",
    '"alice@a.test" <mallory@evil.test>',
    "Alice <alice@a.test> <mallory@evil.test>",
    "alice@a.test, mallory@evil.test",
    "alice@a.test (Alice) <mallory@evil.test>",
    '"alice@a.test\\" <mallory@evil.test>"',
    "=?utf-8?q?alice=40a=2Etest?= <mallory@evil.test>",
    "alice@a.test@evil.test",
    "<>",
    "MAILER-DAEMON",
    "Alice <alice@a.test",
    "",
]


def _mail(from_header: str, extra: str = "") -> bytes:
    return (
        f"From: {from_header}\r\n{extra}To: support@helpdesk.test\r\n"
        "Subject: hello\r\nMessage-ID: <m@x.test>\r\n\r\nbody\r\n"
    ).encode()


@pytest.mark.parametrize("from_header", ATTACKS)
def test_an_ambiguous_sender_is_unknown(from_header):
    assert parse_message(_mail(from_header)).from_address is None


def test_two_from_headers_make_the_sender_unknown():
    data = _mail("alice@a.test", extra="From: mallory@evil.test\r\n")
    assert parse_message(data).from_address is None


@pytest.mark.parametrize(
    ("from_header", "address", "name"),
    [
        ("Alice Example <Alice@A.test>", "alice@a.test", "Alice Example"),
        ('"alice@a.test" <alice@a.test>', "alice@a.test", "alice@a.test"),
        ("alice@a.test", "alice@a.test", ""),
        ("=?utf-8?q?Al=C3=ADce?= <alice@a.test>", "alice@a.test", "Alíce"),
        ('"Kowalski, Jan" <jan@a.test>', "jan@a.test", "Kowalski, Jan"),
    ],
)
def test_ordinary_senders_are_read_exactly(from_header, address, name):
    parsed = parse_message(_mail(from_header))
    assert (parsed.from_address, parsed.from_name) == (address, name)


@pytest.mark.parametrize("from_header", ATTACKS[:4])
def test_mail_from_an_ambiguous_sender_is_kept_but_creates_nobody(pool, from_header):
    raw = receive(make_mailbox(pool), _mail(from_header))
    assert (raw.state, raw.reason) == ("ignored", RawMessage.Reason.NO_SENDER)
    assert raw.error
    assert not ContactEmail.objects.exists()
    assert not Ticket.objects.exists()


def test_header_injection_in_the_subject_stays_on_one_line():
    data = b"From: a@a.test\r\nSubject: =?utf-8?q?hi=0D=0ABcc:_x@evil.test?=\r\n\r\nbody"
    assert "\n" not in parse_message(data).subject
    assert "\r" not in parse_message(data).subject
