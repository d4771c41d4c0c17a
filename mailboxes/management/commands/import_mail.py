"""Import .eml files, maildirs and .mbox files through the same path as fetched mail."""

import hashlib
import mailbox as stdlib_mailbox
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mailboxes.ingest import (
    STORE_CHUNK,
    STORE_CHUNK_BYTES,
    refuse_raw_message,
    store_raw_messages,
)
from mailboxes.models import Mailbox, RawMessage
from mailboxes.processing import process_raw_messages
from tickets.models import Message


def _is_maildir(path: Path) -> bool:
    return (path / "cur").is_dir() and (path / "new").is_dir()


def _maildir_files(path: Path) -> Iterator[Path]:
    for sub in ("cur", "new"):
        yield from sorted(p for p in (path / sub).iterdir() if p.is_file())


def _mbox_messages(path: Path) -> Iterator[tuple[str, int, bytes | None]]:
    box = stdlib_mailbox.mbox(path, create=False)
    try:
        for key in box.iterkeys():
            data = box.get_bytes(key)
            yield f"{path}#{key}", len(data), data
    finally:
        box.close()


def _file_message(path: Path) -> tuple[str, int, bytes | None]:
    size = path.stat().st_size
    # An oversized file is never read: it is recorded as refused, like on a server.
    data = path.read_bytes() if size <= settings.MAIL_MAX_MESSAGE_BYTES else None
    return str(path), size, data


def messages_in(path: Path) -> Iterator[tuple[str, int, bytes | None]]:
    """(where, size, bytes or None when too large) of every message under a path."""
    if path.is_dir():
        if _is_maildir(path):
            for file in _maildir_files(path):
                yield _file_message(file)
            return
        for child in sorted(path.iterdir()):
            if child.is_dir() or child.suffix in (".eml", ".mbox"):
                yield from messages_in(child)
    elif path.suffix == ".mbox":
        yield from _mbox_messages(path)
    elif path.is_file():
        yield _file_message(path)
    else:
        raise CommandError(f"{path} does not exist")


def _outcome(raw: RawMessage) -> str:
    if raw.state == RawMessage.State.PROCESSED and raw.ticket_id:
        messages = Message.objects.filter(ticket_id=raw.ticket_id).order_by("created_at", "pk")
        first = messages.values_list("pk", flat=True)[:1]
        return "new ticket" if list(first) == [raw.ticket_message_id] else "reply threaded"
    if raw.state == RawMessage.State.IGNORED:
        return f"ignored ({raw.reason or 'no reason'})"
    return raw.state


class Command(BaseCommand):
    help = "Import .eml files, maildirs and .mbox files into a mailbox, as if fetched."

    def add_arguments(self, parser):
        parser.add_argument("--mailbox", required=True, help="name of the mailbox to import into")
        parser.add_argument("paths", nargs="+", type=Path, metavar="FILE_OR_DIR")

    def handle(self, *args, **options):
        try:
            mailbox = Mailbox.objects.get(name=options["mailbox"])
        except Mailbox.DoesNotExist as error:
            raise CommandError(f"no mailbox named {options['mailbox']!r}") from error
        counts: Counter[str] = Counter()
        # Stored and processed in chunks, as a fetch does: one commit and one batch each.
        pending: list[tuple[str, bytes]] = []
        for path in options["paths"]:
            for where, size, data in messages_in(path):
                if data is None:
                    counts[self._refuse(mailbox, where, size)] += 1
                    continue
                pending.append((where, data))
                if len(pending) >= STORE_CHUNK or sum(len(d) for _w, d in pending) >= (
                    STORE_CHUNK_BYTES
                ):
                    self._import(mailbox, pending, counts)
                    pending = []
        self._import(mailbox, pending, counts)
        self._summary(counts)

    def _refuse(self, mailbox: Mailbox, where: str, size: int) -> str:
        where_digest = hashlib.sha256(where.encode("utf-8", "surrogateescape")).hexdigest()
        raw = refuse_raw_message(mailbox, uid=f"import:{where_digest}", size=size)
        return "refused (too large)" if raw else "duplicate skipped"

    def _import(self, mailbox: Mailbox, pending: list[tuple[str, bytes]], counts) -> None:
        if not pending:
            return
        uids = [f"import:{hashlib.sha256(data).hexdigest()}" for _where, data in pending]
        stored = store_raw_messages(mailbox, list(zip(uids, (d for _w, d in pending), strict=True)))
        ids = [raw.pk for raw in stored if raw is not None]
        process_raw_messages(ids)
        processed = RawMessage.objects.in_bulk(ids)
        for (where, _data), raw in zip(pending, stored, strict=True):
            if raw is None:
                counts["duplicate skipped"] += 1
                continue
            raw = processed[raw.pk]
            if raw.state == RawMessage.State.FAILED:
                self.stderr.write(f"failed: {where}: {raw.error}")
            counts[_outcome(raw)] += 1

    def _summary(self, counts: Counter[str]) -> None:
        names = ["new ticket", "reply threaded"]
        names += sorted(name for name in counts if name.startswith(("ignored", "refused")))
        names += ["failed", "duplicate skipped"]
        names += sorted(set(counts) - set(names))  # e.g. a state processing left behind
        lines = [f"{counts[name]:6d}  {name}" for name in names]
        lines.append(f"{sum(counts.values()):6d}  messages read")
        self.stdout.write("\n".join(lines))
