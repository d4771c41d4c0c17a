"""A local maildir: files in new/ (or .eml files dropped at the top) are new mail.

After import a file moves to cur/ with the seen flag (":2,S"), to the maildir++
subfolder ".<move_to_folder>", or is deleted, as the mailbox says.
"""

import os
from pathlib import Path

from mailboxes.fetchers import PEEK_BYTES
from mailboxes.models import Mailbox


class MaildirFetcher:
    uidvalidity = None
    marks_on_server = True

    def __init__(self, mailbox: Mailbox):
        self.mailbox = mailbox
        self.root = Path(mailbox.maildir_path)
        self.paths: dict[str, Path] = {}

    def __enter__(self) -> "MaildirFetcher":
        if not self.root.is_dir():
            raise FileNotFoundError(f"maildir {self.root} does not exist")
        for name in ("new", "cur", "tmp"):
            (self.root / name).mkdir(exist_ok=True)
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:
        self.paths.clear()

    def list_new(self) -> list[tuple[str, int]]:
        candidates = [p for p in (self.root / "new").iterdir() if not p.name.startswith(".")]
        candidates += [p for p in self.root.iterdir() if p.suffix == ".eml"]
        found = []
        for path in sorted(candidates):
            if not path.is_file():
                continue
            # The unique part of a maildir name; flags after ":" change, the id does not.
            # Bytes that are not UTF-8 spelled out: no database stores them as text.
            uid = os.fsencode(path.name.split(":", 1)[0]).decode("utf-8", "backslashreplace")
            self.paths[uid] = path
            found.append((uid, path.stat().st_size))
        return found

    def peek_headers(self, uid: str) -> bytes:
        with open(self.paths[uid], "rb") as message:
            return message.read(PEEK_BYTES)

    def fetch(self, uid: str) -> bytes:
        return self.paths[uid].read_bytes()

    def mark_done(self, uid: str) -> None:
        path = self.paths.pop(uid)
        after = self.mailbox.after_import
        if after == Mailbox.AfterImport.DELETE:
            path.unlink(missing_ok=True)
            return
        target = self.root
        if after == Mailbox.AfterImport.MOVE and self.mailbox.move_to_folder:
            target = self.root / f".{self.mailbox.move_to_folder}"
            for name in ("new", "cur", "tmp"):
                (target / name).mkdir(parents=True, exist_ok=True)
        # rename() is atomic within one file system, so the file is never in two places.
        os.rename(path, target / "cur" / f"{uid}:2,S")

    def mark_refused(self, uid: str) -> None:
        # Seen, in this maildir's cur/: no longer listed, never moved away or deleted.
        path = self.paths.pop(uid)
        os.rename(path, self.root / "cur" / f"{uid}:2,S")
