"""Every real-world message in the shared corpus ends as a ticket or an ignored record."""

from pathlib import Path

import pytest

from mailboxes.models import RawMessage
from mailboxes.parsing import parse_message
from mailboxes.processing import process_raw_message
from tests.mailboxes.test_processing import make_mailbox, store_raw

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "emails"
FILES = sorted(CORPUS.glob("*/*.eml"))


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def test_the_corpus_is_all_there():
    assert len(FILES) == 134


@pytest.mark.parametrize("path", FILES, ids=_name)
def test_corpus_message_is_processed_or_ignored_with_a_reason(path, pool):
    raw = process_raw_message(store_raw(make_mailbox(pool), path.read_bytes()).pk)
    assert raw.state != RawMessage.State.FAILED, raw.error
    if raw.state == RawMessage.State.PROCESSED:
        assert raw.ticket is not None
        assert raw.ticket_message is not None
    else:
        assert raw.state == RawMessage.State.IGNORED
        assert raw.reason


@pytest.mark.parametrize("path", FILES, ids=_name)
def test_corpus_message_parses_without_raising(path):
    parsed = parse_message(path.read_bytes())
    assert isinstance(parsed.text, str)
    assert "\n" not in parsed.subject
