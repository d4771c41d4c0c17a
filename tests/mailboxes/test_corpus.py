"""Every message ends as a ticket or an ignored record with a reason, never as a failure.

Our own messages (tests/mailboxes/messages) always run; the shared corpus of real-world
mail runs where it is present (and must be, in CI).
"""

from pathlib import Path

import pytest

from mailboxes.models import RawMessage
from mailboxes.parsing import parse_message
from mailboxes.processing import process_raw_messages
from tests.mailboxes.conftest import OWN_MESSAGES, SHARED_CORPUS, require_shared_corpus
from tests.mailboxes.test_processing import make_mailbox, store_raw

OWN = sorted(OWN_MESSAGES.glob("*.eml"))
CORPUS = sorted(SHARED_CORPUS.glob("*/*.eml"))
# Robots, a message with no sender to answer, and forged or ambiguous senders.
IGNORED = {
    "auto_reply_out_of_office",
    "delivery_status_bounce",
    "no_headers_to_speak_of",
    "sender-display-name-is-another-address",
    "sender-two-parsers-disagree",
}


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def test_the_project_carries_its_own_test_messages():
    assert len(OWN) >= 12


def test_the_shared_corpus_is_all_there():
    require_shared_corpus()
    assert len(CORPUS) == 134


@pytest.mark.parametrize("path", OWN + CORPUS, ids=_name)
def test_message_is_processed_or_ignored_with_a_reason(path, pool):
    raw = process_raw_messages([store_raw(make_mailbox(pool), path.read_bytes()).pk])[0]
    assert raw.state != RawMessage.State.FAILED, raw.error
    if raw.state == RawMessage.State.PROCESSED:
        assert raw.ticket is not None
        assert raw.ticket_message is not None
    else:
        assert raw.state == RawMessage.State.IGNORED
        assert raw.reason
    if path.parent == OWN_MESSAGES:
        expected = RawMessage.State.IGNORED if path.stem in IGNORED else RawMessage.State.PROCESSED
        assert raw.state == expected


@pytest.mark.parametrize("path", OWN + CORPUS, ids=_name)
def test_message_parses_without_raising(path):
    parsed = parse_message(path.read_bytes())
    try:
        assert isinstance(parsed.text, str)
        assert "\n" not in parsed.subject
    finally:
        parsed.close()  # a long attachment was decoded to a temporary file
