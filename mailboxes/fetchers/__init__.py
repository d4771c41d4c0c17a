"""One fetcher per mailbox kind, all with the same small interface.

A fetcher is a context manager (the connection) with:
- ``uidvalidity``: the IMAP UIDVALIDITY of the folder, or None;
- ``marks_on_server``: False when mark_done leaves the message listed (POP3 keeping
  mail), so the stored rows alone tell what was imported;
- ``list_new()``: (uid, size) of the messages still on the server to look at;
- ``peek_headers(uid)``: at most a few KB of the header, without downloading the message;
- ``fetch(uid)``: the whole message as bytes;
- ``mark_done(uid)``: what the mailbox says to do after import (seen, move, delete);
- ``mark_refused(uid)``: a message refused unread (too large) is only flagged seen, never
  moved or deleted: the whole message stays on the server, where an admin can get it.

The uid strings are what RawMessage.uid stores, so they must be stable across runs.
"""

from collections.abc import Iterable
from typing import Protocol

from mailboxes.models import Mailbox

# Seconds a connection may wait on the server before the fetch fails (and backs off).
TIMEOUT = 60
PEEK_BYTES = 8192


class Fetcher(Protocol):
    uidvalidity: int | None
    marks_on_server: bool

    def __enter__(self) -> "Fetcher": ...

    def __exit__(self, *exc_info) -> None: ...

    def list_new(self) -> Iterable[tuple[str, int]]: ...

    def peek_headers(self, uid: str) -> bytes: ...

    def fetch(self, uid: str) -> bytes: ...

    def mark_done(self, uid: str) -> None: ...

    def mark_refused(self, uid: str) -> None: ...


def open_fetcher(mailbox: Mailbox) -> Fetcher:
    """The fetcher for this mailbox's kind; use it as a context manager."""
    from mailboxes.fetchers.imap import ImapFetcher
    from mailboxes.fetchers.maildir import MaildirFetcher
    from mailboxes.fetchers.pop3 import Pop3Fetcher

    kinds: dict[str, type] = {
        Mailbox.Kind.IMAP: ImapFetcher,
        Mailbox.Kind.POP3: Pop3Fetcher,
        Mailbox.Kind.MAILDIR: MaildirFetcher,
    }
    return kinds[mailbox.kind](mailbox)
