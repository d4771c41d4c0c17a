"""Import .eml files, maildirs and .mbox files through the same path as fetched mail."""

import hashlib
import mailbox as stdlib_mailbox
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mailboxes import processing
from mailboxes.ingest import refuse_raw_message, store_raw_message
from mailboxes.models import Mailbox, RawMessage
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
        for path in options["paths"]:
            for where, size, data in messages_in(path):
                counts[self._import_one(mailbox, where, size, data)] += 1
        self._summary(counts)

    def _import_one(self, mailbox: Mailbox, where: str, size: int, data: bytes | None) -> str:
        if data is None:
            where_digest = hashlib.sha256(where.encode("utf-8", "surrogateescape")).hexdigest()
            raw = refuse_raw_message(mailbox, uid=f"import:{where_digest}", size=size)
            return "refused (too large)" if raw else "duplicate skipped"
        uid = f"import:{hashlib.sha256(data).hexdigest()}"
        raw = store_raw_message(mailbox, uid=uid, data=data)
        if raw is None:
            return "duplicate skipped"
        raw = processing.process_raw_message(raw.pk)
        outcome = _outcome(raw)
        if raw.state == RawMessage.State.FAILED:
            self.stderr.write(f"failed: {where}: {raw.error}")
        return outcome

    def _summary(self, counts: Counter[str]) -> None:
        names = ["new ticket", "reply threaded"]
        names += sorted(name for name in counts if name.startswith(("ignored", "refused")))
        names += ["failed", "duplicate skipped"]
        names += sorted(set(counts) - set(names))  # e.g. a state processing left behind
        lines = [f"{counts[name]:6d}  {name}" for name in names]
        lines.append(f"{sum(counts.values()):6d}  messages read")
        self.stdout.write("\n".join(lines))
