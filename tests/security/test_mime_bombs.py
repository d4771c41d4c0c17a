"""Resource bombs: absurd nesting, part counts and header sizes are bounded in work (parts
read, queries), and the message is kept with a record of what was cut."""

import pytest

from mailboxes import parsing
from mailboxes.models import RawMessage
from mailboxes.parsing import MAX_PARTS, parse_message
from tests.mailboxes.test_processing import make_mailbox, receive


def _nested(depth: int) -> bytes:
    head = "From: ana@example.test\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"
    opening = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth)
    )
    closing = "".join(f"\r\n--b{i}--\r\n" for i in reversed(range(depth)))
    return (head + opening + "Content-Type: text/plain\r\n\r\ndeep text\r\n" + closing).encode()


def _many_parts(count: int) -> bytes:
    head = (
        "From: ana@example.test\r\nSubject: many\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
    )
    parts = "".join(
        "--b\r\nContent-Type: application/octet-stream\r\n"
        f"Content-Disposition: attachment; filename=f{i}.bin\r\n\r\nx{i}\r\n"
        for i in range(count)
    )
    return (head + parts + "--b--\r\n").encode()


def _huge_header(size: int) -> bytes:
    return (
        f"From: ana@example.test\r\nSubject: {'A' * size}\r\n"
        f"To: {'a@b.test, ' * (size // 10)}\r\n\r\nbody\r\n"
    ).encode()


BOMBS = {
    "nesting-200": _nested(200),
    "nesting-25": _nested(25),
    "parts-10000": _many_parts(10_000),
    "header-1MB": _huge_header(1_000_000),
}


@pytest.fixture
def parts_read(monkeypatch):
    """How many MIME parts the parser really reads (decodes, stores): its work, not the clock."""
    counted = []
    read_part = parsing._Walker._leaf

    def counting(self, *args, **kwargs):
        counted.append(1)
        return read_part(self, *args, **kwargs)

    monkeypatch.setattr(parsing._Walker, "_leaf", counting)
    return counted


@pytest.mark.parametrize("name", BOMBS)
def test_a_mime_bomb_is_parsed_with_bounded_work_and_a_record(name, parts_read):
    parsed = parse_message(BOMBS[name])
    assert len(parts_read) <= MAX_PARTS
    assert parsed.defects
    assert len(parsed.attachments) <= MAX_PARTS
    assert len(parsed.subject) <= 1000


@pytest.mark.parametrize("name", BOMBS)
def test_a_mime_bomb_is_kept_as_a_ticket_with_the_cut_recorded(
    pool, name, django_assert_max_num_queries
):
    mailbox = make_mailbox(pool)
    # At most one write per part kept, plus the ticket's own: the bomb's size does not count.
    with django_assert_max_num_queries(MAX_PARTS + 40):
        raw = receive(mailbox, BOMBS[name])
    assert raw.state == RawMessage.State.PROCESSED
    assert raw.error  # what was cut, for the admin
    assert raw.file  # the raw message stays


def test_a_message_over_the_size_limit_is_refused_and_kept(pool, settings):
    settings.MAIL_MAX_MESSAGE_BYTES = 1000
    raw = receive(make_mailbox(pool), _huge_header(2000))
    assert (raw.state, raw.reason) == (RawMessage.State.REFUSED, RawMessage.Reason.TOO_LARGE)
    assert raw.file
