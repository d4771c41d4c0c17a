"""IMAP by UID, with UIDVALIDITY in every uid string ("<uidvalidity>:<uid>")."""

import ssl

from imapclient import DELETED, SEEN, IMAPClient
from imapclient.exceptions import LoginError

from mailboxes.fetchers import PEEK_BYTES, TIMEOUT
from mailboxes.models import Mailbox
from mailboxes.oauth import access_token

SIZE_CHUNK = 500


def _oauth2_login(client: IMAPClient, mailbox: Mailbox) -> None:
    """SASL XOAUTH2; a token refused before its expiry (revoked) is refreshed, tried again."""
    account, token = access_token(mailbox)
    try:
        client.oauth2_login(account, token)
    except LoginError:
        client.oauth2_login(*access_token(mailbox, rejected=token))


class ImapFetcher:
    def __init__(self, mailbox: Mailbox):
        self.mailbox = mailbox
        self.client: IMAPClient | None = None
        self.uidvalidity: int | None = None
        self.needs_expunge = False
        self.marks_on_server = True

    def __enter__(self) -> "ImapFetcher":
        mailbox = self.mailbox
        security = mailbox.security
        context = ssl.create_default_context()
        default_port = 993 if security == Mailbox.Security.SSL else 143
        client = IMAPClient(
            mailbox.host,
            port=mailbox.port or default_port,
            ssl=security == Mailbox.Security.SSL,
            ssl_context=context if security == Mailbox.Security.SSL else None,
            timeout=TIMEOUT,
        )
        self.client = client
        try:
            if security == Mailbox.Security.STARTTLS:
                client.starttls(context)
            if mailbox.oauth_connection is not None:
                _oauth2_login(client, mailbox)
            else:
                client.login(mailbox.username, mailbox.password)
            selected = client.select_folder(mailbox.folder)
            self.uidvalidity = int(selected[b"UIDVALIDITY"])
            if (
                mailbox.after_import == Mailbox.AfterImport.MOVE
                and mailbox.move_to_folder
                and not client.folder_exists(mailbox.move_to_folder)
            ):
                client.create_folder(mailbox.move_to_folder)
        except BaseException:
            self._close()
            raise
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        if exc_type is None and self.needs_expunge and self.client is not None:
            self.client.expunge()
        self._close()

    def _close(self) -> None:
        if self.client is None:
            return
        client, self.client = self.client, None
        try:
            client.logout()
        except Exception:  # the connection may already be gone; close it anyway
            client.shutdown()

    @property
    def connected(self) -> IMAPClient:
        if self.client is None:
            raise RuntimeError("use the fetcher as a context manager")
        return self.client

    def _uid_string(self, uid: int) -> str:
        return f"{self.uidvalidity}:{uid}"

    def _server_uid(self, uid: str) -> int:
        validity, _, number = uid.partition(":")
        if validity != str(self.uidvalidity):
            raise ValueError(f"uid {uid} is from another UIDVALIDITY than {self.uidvalidity}")
        return int(number)

    def list_new(self) -> list[tuple[str, int]]:
        if self.mailbox.after_import == Mailbox.AfterImport.SEEN:
            criteria = ["UNSEEN", "NOT", "DELETED"]
        else:
            # Moved and deleted messages leave the folder; whatever is still here is new.
            criteria = ["NOT", "DELETED"]
        uids = sorted(self.connected.search(criteria))
        found: list[tuple[str, int]] = []
        # The size comes from the server so an oversized message is refused unread.
        for start in range(0, len(uids), SIZE_CHUNK):
            chunk = uids[start : start + SIZE_CHUNK]
            sizes = self.connected.fetch(chunk, ["RFC822.SIZE"])
            found.extend(
                (self._uid_string(uid), int(sizes[uid][b"RFC822.SIZE"]))
                for uid in chunk
                if uid in sizes
            )
        return found

    def peek_headers(self, uid: str) -> bytes:
        server_uid = self._server_uid(uid)
        # A partial fetch, so a huge header block cannot be forced on us either.
        response = self.connected.fetch([server_uid], [f"BODY.PEEK[HEADER]<0.{PEEK_BYTES}>"])
        data = response.get(server_uid, {})
        return data.get(b"BODY[HEADER]<0>") or b""

    def fetch(self, uid: str) -> bytes:
        server_uid = self._server_uid(uid)
        # PEEK: the message becomes \Seen only through mark_done, after it is stored.
        response = self.connected.fetch([server_uid], ["BODY.PEEK[]"])
        if server_uid not in response:
            raise LookupError(f"message {uid} is gone from the server")
        return response[server_uid][b"BODY[]"]

    def mark_done(self, uid: str) -> None:
        client = self.connected
        server_uid = self._server_uid(uid)
        after = self.mailbox.after_import
        if after == Mailbox.AfterImport.MOVE and self.mailbox.move_to_folder:
            if client.has_capability("MOVE"):
                client.move([server_uid], self.mailbox.move_to_folder)
                return
            client.copy([server_uid], self.mailbox.move_to_folder)
            self._delete(server_uid)
        elif after == Mailbox.AfterImport.DELETE:
            self._delete(server_uid)
        else:
            client.add_flags([server_uid], [SEEN], silent=True)

    def mark_refused(self, uid: str) -> None:
        self.connected.add_flags([self._server_uid(uid)], [SEEN], silent=True)

    def _delete(self, server_uid: int) -> None:
        client = self.connected
        client.add_flags([server_uid], [DELETED], silent=True)
        if client.has_capability("UIDPLUS"):
            client.uid_expunge([server_uid])
        else:
            # Without UIDPLUS an EXPUNGE would also remove messages others flagged \Deleted
            # mid-run; one EXPUNGE at the end of a clean run is the lesser evil.
            self.needs_expunge = True
