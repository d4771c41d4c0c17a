"""The IMAP IDLE listener: new mail is fetched within a second of its arrival, not a minute.

`manage.py listen_mail` runs one Listener (its own line in the Procfile and service in
docker-compose.yml). It holds an IDLE connection (RFC 2177) to every active IMAP mailbox
whose server offers IDLE, one Watcher thread each. A watcher owns its connection and never
touches the database: it reports what it sees on a queue. The listener's own thread alone
reads and writes rows: it re-reads the mailboxes (added, removed, deactivated, changed),
starts and stops watchers, asks for fetches, marks the mailboxes it listens to
(``listening_at``) and records connection errors (``last_error``).

A fetch is the poller's own: ``fetch_mailbox_task`` on the intake queue, which takes the
mailbox's claim (mailboxes.fetch_claims), so listener and poller never fetch one mailbox at
once and a mail is never fetched twice. Polling goes on as the fallback, less often while
the listener holds a mailbox (ingest._poll_plan), and catches whatever a lost connection
missed; each (re)connection also asks for one fetch, for mail that came while it was down.
"""

import logging
import queue
import select
import threading
import time
from dataclasses import dataclass
from typing import Literal

from django.conf import settings
from django.db import close_old_connections, connections
from django.utils import timezone
from imapclient import IMAPClient

from mailboxes.fetchers.imap import ImapFetcher
from mailboxes.models import Mailbox
from mailboxes.text import db_text

logger = logging.getLogger(__name__)

# Stored before a connection error in last_error, so the listener clears only its own.
ERROR_PREFIX = "IDLE: "
# A watcher wakes this often (seconds) to notice it was stopped or that IDLE is due again.
WAKE_SECONDS = 1.0
# A server without IDLE is asked again after this long (it may have been upgraded).
NO_IDLE_RECHECK_SECONDS = 3600.0

EventKind = Literal["connected", "new_mail", "failed", "no_idle"]


def connection_key(mailbox: Mailbox) -> tuple:
    """What the connection depends on: a change reconnects the mailbox's watcher."""
    return (
        mailbox.kind,
        mailbox.host,
        mailbox.port,
        mailbox.security,
        mailbox.username,
        mailbox.password,
        mailbox.folder,
        mailbox.after_import,
        mailbox.move_to_folder,
    )


@dataclass(frozen=True)
class Event:
    kind: EventKind
    watcher: "Watcher"
    detail: str = ""


class NoIdleError(Exception):
    """The server does not offer IDLE: the mailbox is left to polling."""


class Watcher(threading.Thread):
    """One mailbox's IDLE connection: reconnects with back-off until stopped."""

    def __init__(self, mailbox: Mailbox, events: "queue.Queue[Event]"):
        super().__init__(name=f"idle-mailbox-{mailbox.pk}", daemon=True)
        self.mailbox = mailbox
        self.mailbox_id = mailbox.pk
        self.key = connection_key(mailbox)
        self.events = events
        self.stopping = threading.Event()
        self.failures = 0
        self.delay = settings.MAIL_IDLE_RETRY_MIN_SECONDS
        # How many times IDLE was re-issued on a live connection (tests read it).
        self.renewals = 0

    def stop(self) -> None:
        self.stopping.set()

    def _report(self, kind: EventKind, detail: str = "") -> None:
        self.events.put(Event(kind, self, detail))

    def run(self) -> None:
        try:
            self._watch()
        finally:
            # An OAuth2 mailbox's token is read (and refreshed) from this thread: its
            # database connection is this thread's own and closes with it.
            connections.close_all()

    def _watch(self) -> None:
        while not self.stopping.is_set():
            try:
                self._listen()
            except NoIdleError:
                self._report("no_idle")
                self.stopping.wait(NO_IDLE_RECHECK_SECONDS)
            except Exception as error:  # any failure: wait, then connect again
                self.failures += 1
                self._report("failed", self._redact(f"{type(error).__name__}: {error}"))
                self.stopping.wait(self.delay)
                self.delay = min(self.delay * 2, settings.MAIL_IDLE_RETRY_MAX_SECONDS)

    def _redact(self, text: str) -> str:
        if self.mailbox.password:
            text = text.replace(self.mailbox.password, "********")
        return db_text(text)[:1900]

    def _listen(self) -> None:
        # The fetcher's own connection code (TLS, login, folder), so both log in alike.
        with ImapFetcher(self.mailbox) as fetcher:
            client = fetcher.connected
            if not client.has_capability("IDLE"):
                raise NoIdleError
            client.idle()
            self.failures, self.delay = 0, settings.MAIL_IDLE_RETRY_MIN_SECONDS
            self._report("connected")
            self._wait_for_mail(client)  # returns when stopped, raises on any trouble
            try:
                client.idle_done()
            except Exception:  # leaving anyway; the fetcher closes the socket
                logger.debug("mail.idle_done_failed mailbox=%s", self.mailbox_id)

    def _wait_for_mail(self, client: IMAPClient) -> None:
        poller = select.poll()
        poller.register(client.socket(), select.POLLIN)
        renew_at = time.monotonic() + settings.MAIL_IDLE_RENEW_SECONDS
        while not self.stopping.is_set():
            remaining = renew_at - time.monotonic()
            if remaining <= 0:
                # RFC 2177: a server may log out a client idle for 30 minutes; DONE and IDLE
                # again well before. What came meanwhile is in idle_done's answer.
                _text, responses = client.idle_done()
                self._read(responses)
                client.idle()
                self.renewals += 1
                renew_at = time.monotonic() + settings.MAIL_IDLE_RENEW_SECONDS
                continue
            if not poller.poll(min(remaining, WAKE_SECONDS) * 1000):
                continue
            responses = client.idle_check(timeout=0)
            if not responses:
                # Readable with nothing to read: the server closed the connection.
                raise ConnectionError("the server closed the connection")
            self._read(responses)

    def _read(self, responses: list) -> None:
        new_mail = False
        for response in responses:
            if response and response[0] == b"BYE":
                raise ConnectionError(f"the server said BYE: {response[1:]!r}")
            if len(response) >= 2 and response[1] == b"EXISTS":
                new_mail = True
        if new_mail:
            self._report("new_mail")


def enqueue_fetch(mailbox_id: int) -> None:
    """The poller's fetch, on the intake queue; a broker outage is left to the poller."""
    from mailboxes.tasks import fetch_mailbox_task

    try:
        fetch_mailbox_task.delay(mailbox_id)
    except Exception:
        logger.exception("mail.idle_enqueue_failed mailbox=%s", mailbox_id)


class Listener:
    """Many mailboxes' watchers in one process; run() until stop() (a signal handler)."""

    def __init__(self, *, request_fetch=enqueue_fetch):
        self.events: queue.Queue[Event] = queue.Queue()
        self.watchers: dict[int, Watcher] = {}
        self.listening: set[int] = set()
        self.stopping = threading.Event()
        self.request_fetch = request_fetch
        self.fetches_requested = 0

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        logger.info("mail.idle_listener_started")
        next_refresh = next_beat = 0.0
        try:
            while not self.stopping.is_set():
                now = time.monotonic()
                if now >= next_refresh:
                    self._guarded(self.refresh)
                    next_refresh = now + settings.MAIL_IDLE_REFRESH_SECONDS
                if now >= next_beat:
                    self._guarded(self.heartbeat)
                    next_beat = now + settings.MAIL_IDLE_HEARTBEAT_SECONDS
                wait = min(next_refresh, next_beat) - time.monotonic()
                self._guarded(self.handle_events, timeout=min(max(wait, 0.01), 1.0))
        finally:
            self._shut_down()

    def _guarded(self, step, **options) -> None:
        # A database that is away for a while must not end the process: log, retry later.
        try:
            close_old_connections()
            step(**options)
        except Exception:
            logger.exception("mail.idle_listener_error")
            time.sleep(1.0)

    def refresh(self) -> None:
        """Start watchers for new mailboxes; stop those of removed, inactive or changed ones."""
        current = {
            mailbox.pk: mailbox
            # With the OAuth grant (or its absence) read here: a password mailbox's watcher
            # thread then never queries the database.
            for mailbox in Mailbox.objects.filter(
                active=True, kind=Mailbox.Kind.IMAP
            ).select_related("oauth")
        }
        gone = []
        for pk, watcher in list(self.watchers.items()):
            mailbox = current.get(pk)
            if mailbox is None or connection_key(mailbox) != watcher.key:
                watcher.stop()
                del self.watchers[pk]
                gone.append(pk)
                logger.info("mail.idle_stopped mailbox=%s", pk)
        self._forget(gone)
        for pk, mailbox in current.items():
            if pk not in self.watchers:
                watcher = Watcher(mailbox, self.events)
                self.watchers[pk] = watcher
                watcher.start()

    def heartbeat(self) -> None:
        """Mark the mailboxes held open, so the poller keeps to its fallback interval."""
        if self.listening:
            Mailbox.objects.filter(pk__in=self.listening).update(listening_at=timezone.now())

    def handle_events(self, *, timeout: float) -> None:
        """Handle what the watchers reported; one fetch per mailbox however much came."""
        try:
            batch = [self.events.get(timeout=timeout)]
        except queue.Empty:
            return
        while True:
            try:
                batch.append(self.events.get_nowait())
            except queue.Empty:
                break
        wanted: dict[int, None] = {}
        for event in batch:
            pk = event.watcher.mailbox_id
            if self.watchers.get(pk) is not event.watcher:
                continue  # from a watcher stopped since
            if event.kind == "connected":
                self._connected(pk)
                wanted[pk] = None  # what came while there was no connection
            elif event.kind == "new_mail":
                wanted[pk] = None
            elif event.kind == "failed":
                self._failed(pk, event.watcher, event.detail)
            elif event.kind == "no_idle":
                logger.warning("mail.idle_unsupported mailbox=%s (polled instead)", pk)
                self._forget([pk])
        for pk in wanted:
            self.fetches_requested += 1
            self.request_fetch(pk)

    def _connected(self, pk: int) -> None:
        logger.info("mail.idle_listening mailbox=%s", pk)
        self.listening.add(pk)
        Mailbox.objects.filter(pk=pk).update(listening_at=timezone.now())
        Mailbox.objects.filter(pk=pk, last_error__startswith=ERROR_PREFIX).update(last_error="")

    def _failed(self, pk: int, watcher: Watcher, detail: str) -> None:
        logger.warning(
            "mail.idle_failed mailbox=%s failures=%d retry_in=%.0fs error=%s",
            pk,
            watcher.failures,
            watcher.delay,
            detail,
        )
        self.listening.discard(pk)
        Mailbox.objects.filter(pk=pk).update(
            listening_at=None, last_error=f"{ERROR_PREFIX}{detail}"
        )

    def _forget(self, pks: list[int]) -> None:
        # Not listened to any more: the poller goes back to the mailbox's own interval.
        if pks:
            self.listening.difference_update(pks)
            Mailbox.objects.filter(pk__in=pks).update(listening_at=None)

    def _shut_down(self) -> None:
        for watcher in self.watchers.values():
            watcher.stop()
        for watcher in self.watchers.values():
            watcher.join(timeout=10)
        try:
            self._forget(list(self.watchers))
        except Exception:
            logger.exception("mail.idle_listener_error")
        self.watchers.clear()
        connections.close_all()
        logger.info("mail.idle_listener_stopped")
