"""POP3 by UIDL: messages stay on the server unless the mailbox says delete.

POP3 has no flags, so "already imported" is remembered by the RawMessage rows: the
ingest loop skips a UIDL it has stored (and calls mark_done, which deletes only when
the mailbox is set to delete).
"""

import base64
import poplib
import ssl

from mailboxes.fetchers import TIMEOUT
from mailboxes.models import Mailbox
from mailboxes.oauth import access_token, xoauth2_string


def _xoauth2_login(client: poplib.POP3, account: str, token: str) -> None:
    """AUTH XOAUTH2 with the initial response (RFC 5034); poplib has no AUTH of its own."""
    response = base64.b64encode(xoauth2_string(account, token).encode()).decode("ascii")
    # _shortcmd is how poplib sends its own commands (user, pass_); -ERR raises error_proto.
    client._shortcmd(f"AUTH XOAUTH2 {response}")  # type: ignore[attr-defined]


class Pop3Fetcher:
    uidvalidity = None

    def __init__(self, mailbox: Mailbox):
        self.mailbox = mailbox
        self.client: poplib.POP3 | None = None
        self.numbers: dict[str, int] = {}
        self.marks_on_server = mailbox.after_import == Mailbox.AfterImport.DELETE

    def __enter__(self) -> "Pop3Fetcher":
        mailbox = self.mailbox
        context = ssl.create_default_context()
        client: poplib.POP3
        if mailbox.security == Mailbox.Security.SSL:
            client = poplib.POP3_SSL(
                mailbox.host, mailbox.port or 995, timeout=TIMEOUT, context=context
            )
        else:
            client = poplib.POP3(mailbox.host, mailbox.port or 110, timeout=TIMEOUT)
        self.client = client
        try:
            if mailbox.security == Mailbox.Security.STARTTLS:
                client.stls(context)
            if mailbox.oauth_connection is not None:
                account, token = access_token(mailbox)
                try:
                    _xoauth2_login(client, account, token)
                except poplib.error_proto:  # refused before its expiry: refresh, once more
                    _xoauth2_login(client, *access_token(mailbox, rejected=token))
            else:
                client.user(mailbox.username)
                client.pass_(mailbox.password)
        except BaseException:
            client.close()
            self.client = None
            raise
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if self.client is None:
            return
        client, self.client = self.client, None
        try:
            # QUIT commits the DELEs; they were only sent for messages already stored.
            client.quit()
        except Exception:  # the connection may already be gone
            client.close()

    @property
    def connected(self) -> poplib.POP3:
        if self.client is None:
            raise RuntimeError("use the fetcher as a context manager")
        return self.client

    def list_new(self) -> list[tuple[str, int]]:
        _, uid_lines, _ = self.connected.uidl()
        _, size_lines, _ = self.connected.list()
        sizes = {}
        for line in size_lines:
            number, size = line.split()[:2]
            sizes[int(number)] = int(size)
        found = []
        for line in uid_lines:
            number, uidl = line.split()[:2]
            uid = uidl.decode("ascii", "replace")
            self.numbers[uid] = int(number)
            found.append((uid, sizes.get(int(number), 0)))
        return found

    def peek_headers(self, uid: str) -> bytes:
        # TOP has no byte limit, so a header bomb would be read whole: do not peek.
        return b""

    def fetch(self, uid: str) -> bytes:
        _, lines, _ = self.connected.retr(self.numbers[uid])
        return b"\r\n".join(lines) + b"\r\n"

    def mark_refused(self, uid: str) -> None:
        pass  # never deleted; the refused row is how we remember it

    def mark_done(self, uid: str) -> None:
        if self.mailbox.after_import == Mailbox.AfterImport.DELETE:
            self.connected.dele(self.numbers[uid])
