"""The delivery outbox: events become Delivery rows, sent once each by a claiming task.

States: queued -> sending -> delivered, or -> retry (back-off) -> ... -> failed. A row is
claimed with a conditional UPDATE, so two workers (or a task delivered twice) never send
it at the same time; a row left in ``sending`` by a dead worker is claimed again only
after STUCK_AFTER, far longer than a send may last (the transport's hard deadline). A
receiver can still see an event twice (a worker killed after the receiver answered but
before the row was marked): every delivery carries the event's id to deduplicate on.
"""

import json
import logging
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import ChannelError

from helpdesk.celery import app as celery_app
from helpdesk.celery import enqueue_on_commit
from people.models import ContactEmail
from tickets.models import Ticket
from webhooks import signing, transport
from webhooks.addresses import RefusedAddressError
from webhooks.events import Item
from webhooks.health import count_failure
from webhooks.models import Delivery, Endpoint

logger = logging.getLogger(__name__)

State = Delivery.State
PENDING = [State.QUEUED, State.RETRY]
USER_AGENT = "Helpdesk-Webhooks/1"
# Answers worth another try: the receiver is overloaded or down for a moment.
RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}


def stuck_after() -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_STUCK_AFTER_SECONDS)


def lost_job_after() -> timedelta:
    return timedelta(seconds=settings.WEBHOOK_LOST_JOB_AFTER_SECONDS)


# --- making the rows ---------------------------------------------------------------------


def subscribers(event: str) -> dict[int, list[int]]:
    """pool id -> ids of the active endpoints that want ``event`` from it; one query."""
    through = Endpoint.pools.through.objects.filter(endpoint__active=True)
    by_pool: dict[int, list[int]] = {}
    for endpoint_id, events, pool_id in through.values_list(
        "endpoint_id", "endpoint__events", "pool_id"
    ):
        if event in (events or []):
            by_pool.setdefault(pool_id, []).append(endpoint_id)
    return by_pool


def _name(first: str | None, last: str | None, username: str | None) -> str:
    return f"{first or ''} {last or ''}".strip() or username or ""


def ticket_data(row: dict, emails: dict[int, str]) -> dict:
    """What an endpoint of the ticket's pool learns about the ticket (no other pool's data).

    ``row`` is one of ``_ticket_rows``: plain values, no model instances (a batch of
    thousands is built in a few milliseconds).
    """

    def named(key: str) -> dict | None:
        return (
            None
            if row[f"{key}_id"] is None
            else {"id": row[f"{key}_id"], "name": row[f"{key}__name"]}
        )

    assignee = row["assignee_id"]
    requester = row["requester_id"]
    return {
        "id": row["id"],
        "number": row["number"],
        "subject": row["subject"],
        "status": row["status"],
        "priority": row["priority"],
        "channel": row["channel"],
        "pool": named("pool"),
        "topic": named("topic"),
        "product": named("product"),
        "assignee": None
        if assignee is None
        else {
            "id": assignee,
            "name": _name(
                row["assignee__first_name"], row["assignee__last_name"], row["assignee__username"]
            ),
        },
        "requester": None
        if requester is None
        else {"id": requester, "name": row["requester__name"], "email": emails.get(requester, "")},
        "created_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
        "url": settings.SITE_URL.rstrip("/") + reverse("tickets:detail", args=[row["number"]]),
    }


_TICKET_FIELDS = (
    "id", "number", "subject", "status", "priority", "channel", "created_at", "updated_at",
    "pool_id", "pool__name", "topic_id", "topic__name", "product_id", "product__name",
    "assignee_id", "assignee__first_name", "assignee__last_name", "assignee__username",
    "requester_id", "requester__name",
)  # fmt: skip


def _ticket_rows(ids: set[int]) -> tuple[dict[int, dict], dict[int, str]]:
    """The tickets' values (one query) and their requesters' primary addresses (one more)."""
    rows = {row["id"]: row for row in Ticket.objects.filter(pk__in=ids).values(*_TICKET_FIELDS)}
    requesters = {row["requester_id"] for row in rows.values() if row["requester_id"]}
    emails: dict[int, str] = {}
    if requesters:
        addresses = ContactEmail.objects.filter(contact__in=requesters).order_by(
            "contact_id", "-is_primary", "address"
        )
        for contact_id, address in addresses.values_list("contact_id", "address"):
            emails.setdefault(contact_id, address)
    return rows, emails


def body_of(event: str, event_id: uuid.UUID, now: datetime, data: dict) -> str:
    envelope = {"id": str(event_id), "type": event, "created_at": now.isoformat(), "data": data}
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False, default=str)


def queue_deliveries(
    event: str,
    items: list[Item],
    *,
    now: datetime | None = None,
    by_pool: dict[int, list[int]] | None = None,
) -> list[int]:
    """Write one Delivery per (item, endpoint of the item's pool that wants ``event``).

    Set-based: one query for the subscribers, one for the tickets (when any endpoint
    listens), one INSERT; the send jobs are handed to a worker after commit in one
    message. An item reaches only the endpoints of its ticket's current pool. ``by_pool``:
    ``subscribers(event)`` when the caller read it already. Returns the new rows' ids;
    running it twice makes the deliveries twice (with new event ids).
    """
    if not items:
        return []
    by_pool = subscribers(event) if by_pool is None else by_pool
    if not by_pool:
        return []
    now = now or timezone.now()
    tickets, emails = _ticket_rows({item.ticket_id for item in items if item.ticket_id})
    rows = []
    for item in items:
        ticket = tickets.get(item.ticket_id) if item.ticket_id is not None else None
        pool_id = ticket["pool_id"] if ticket is not None else item.pool_id
        endpoint_ids = by_pool.get(pool_id, []) if pool_id is not None else []
        if not endpoint_ids or (item.ticket_id is not None and ticket is None):
            continue
        event_id = uuid.uuid4()
        data = dict(item.data)
        if ticket is not None:
            data["ticket"] = ticket_data(ticket, emails)
        body = body_of(event, event_id, now, data)
        rows += [
            Delivery(
                endpoint_id=endpoint_id,
                event=event,
                event_id=event_id,
                ticket_id=item.ticket_id,
                body=body,
                created_at=now,
                next_attempt_at=now,
                enqueued_at=now,
            )
            for endpoint_id in endpoint_ids
        ]
    with transaction.atomic():
        Delivery.objects.bulk_create(rows, batch_size=1000)
        ids = [row.pk for row in rows]
        enqueue_deliveries(ids)
    return ids


def _task(name: str):
    # Looked up by name: this module sits below tasks.py.
    name = f"webhooks.tasks.{name}"
    if name not in celery_app.tasks:
        celery_app.loader.import_default_modules()
    return celery_app.tasks[name]


def enqueue_deliveries(ids: list[int]) -> None:
    """After commit, hand ``ids`` to one fan-out job (the webhooks queue makes the send jobs,
    not the caller: a batch of intake pays one broker message). A broker outage clears
    ``enqueued_at`` and the sweep sends them later."""
    if not ids:
        return

    def lost() -> None:
        Delivery.objects.filter(pk__in=ids, enqueued_at__isnull=False).update(enqueued_at=None)

    enqueue_on_commit(_task("fan_out_deliveries_task"), ids, on_failure=lost)


def fan_out(ids: list[int]) -> None:
    """One send job per delivery (each is claimed on its own, by any worker)."""
    send = _task("send_delivery_task")
    for delivery_id in ids:
        send.delay(delivery_id)


# --- sending -----------------------------------------------------------------------------


def _due(now: datetime) -> Q:
    return Q(state__in=PENDING, next_attempt_at__lte=now) | Q(
        state=State.SENDING, next_attempt_at__lte=now - stuck_after()
    )


def _claim(delivery_id: int, now: datetime) -> bool:
    # next_attempt_at doubles as "claimed at" while sending, so a dead worker's row is
    # found again by the due index after STUCK_AFTER. Rows of a disabled endpoint wait.
    return bool(
        Delivery.objects.filter(_due(now), pk=delivery_id, endpoint__active=True).update(
            state=State.SENDING,
            attempts=F("attempts") + 1,
            next_attempt_at=now,
            enqueued_at=None,
        )
    )


def retry_delay(attempts: int) -> timedelta:
    """WEBHOOK_FIRST_RETRY_SECONDS, doubled after each attempt, capped at one hour."""
    first = timedelta(seconds=settings.WEBHOOK_FIRST_RETRY_SECONDS)
    return min(first * 2 ** max(attempts - 1, 0), timedelta(hours=1))


def headers_for(delivery: Delivery, body: bytes) -> dict[str, str]:
    # Signed at the moment of sending: the receiver checks the time against its clock.
    now = timezone.now()
    secrets = delivery.endpoint.signing_secrets(now)
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        signing.EVENT_HEADER: delivery.event,
        signing.DELIVERY_HEADER: str(delivery.pk),
        signing.SIGNATURE_HEADER: signing.signature_header(
            secrets, body, timestamp=int(now.timestamp())
        ),
    }


def send_delivery(delivery_id: int, *, now: datetime | None = None) -> bool:
    """Claim one delivery and POST it; True when the receiver answered 2xx.

    Safe to re-run: a row delivered, failed, not due, claimed by another worker or of a
    disabled endpoint is left alone. Never raises for the receiver's faults: timeouts,
    connection errors and 5xx/429 become a retry with back-off, other answers (and
    refused addresses) a final failure; each failure counts against the endpoint.
    """
    now = now or timezone.now()
    if not _claim(delivery_id, now):
        return False
    delivery = Delivery.objects.select_related("endpoint").get(pk=delivery_id)
    body = delivery.body.encode()
    reply, error, permanent = None, "", False
    try:
        reply = transport.post(
            delivery.endpoint.url,
            body,
            headers_for(delivery, body),
            timeout=settings.WEBHOOK_TIMEOUT_SECONDS,
        )
    except RefusedAddressError as refusal:
        error, permanent = str(refusal), True
    except Exception as failure:  # network errors and timeouts: try again later
        error = f"{type(failure).__name__}: {failure}"[:2000]
    if reply is not None and 200 <= reply.status < 300:
        _delivered(delivery, reply)
        return True
    if reply is not None:
        permanent = reply.status not in RETRY_STATUSES
        redirect = " (redirects are not followed)" if reply.status < 400 else ""
        error = f"HTTP {reply.status}{redirect}"
    _failed(delivery, reply, error, permanent=permanent)
    return False


def _delivered(delivery: Delivery, reply: transport.Reply) -> None:
    Delivery.objects.filter(pk=delivery.pk, state=State.SENDING).update(
        state=State.DELIVERED,
        delivered_at=timezone.now(),
        response_code=reply.status,
        response_excerpt=reply.excerpt,
        duration_ms=reply.duration_ms,
        last_error="",
    )
    if delivery.endpoint.consecutive_failures:  # as read at the claim: no query when 0
        Endpoint.objects.filter(pk=delivery.endpoint_id, consecutive_failures__gt=0).update(
            consecutive_failures=0
        )


def _failed(delivery: Delivery, reply, error: str, *, permanent: bool) -> None:
    final = permanent or delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk, state=State.SENDING).update(
        state=State.FAILED if final else State.RETRY,
        next_attempt_at=now + retry_delay(delivery.attempts),
        response_code=reply.status if reply else None,
        response_excerpt=reply.excerpt if reply else "",
        duration_ms=reply.duration_ms if reply else None,
        last_error=error,
    )
    logger.warning(
        "webhooks.delivery_failed delivery=%s endpoint=%s final=%s error=%s",
        delivery.pk,
        delivery.endpoint_id,
        final,
        error,
    )
    count_failure(delivery.endpoint_id, error)


# --- the sweep, and an admin's redelivery ------------------------------------------------


QUEUE = "webhooks"


def jobs_waiting() -> int | None:
    """Send jobs waiting in the broker's webhooks queue; None when the broker cannot say."""
    try:
        with celery_app.connection_for_write() as connection:
            declared = connection.default_channel.queue_declare(queue=QUEUE, passive=True)
            return declared.message_count
    except ChannelError:  # an empty queue does not exist (Redis drops empty lists)
        return 0
    except Exception:
        logger.warning("webhooks.queue_size_unknown", exc_info=True)
        return None


def _without_job(now: datetime, *, broker_idle: bool = True) -> Q:
    # A row whose job was consumed (or never sent) has no enqueued_at. One enqueued long ago
    # lost its job only if the queue has drained: while jobs wait, it is waiting its turn
    # (queueing it again would snowball into thousands of duplicate jobs in a burst).
    if not broker_idle:
        return Q(enqueued_at__isnull=True)
    return Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - lost_job_after())


def requeue_due_deliveries(now: datetime | None = None, *, limit: int = 1000) -> list[int]:
    """Enqueue a send job for every due row without one (retries whose time came, rows stuck
    in ``sending`` by a dead worker, jobs the broker lost, looked for only once the queue
    has drained); the ids enqueued.

    Claimed by one conditional UPDATE of ``enqueued_at`` to this sweep's own time, then read
    back by it: two beats (or a beat and a slow one) enqueue a row once.
    """
    now = now or timezone.now()
    without_job = _without_job(now, broker_idle=jobs_waiting() in (0, None))
    due = Delivery.objects.filter(_due(now), without_job, endpoint__active=True)
    ids = list(due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit])
    if not ids:
        return []
    mark = timezone.now()  # this sweep's stamp (a second sweep's differs)
    Delivery.objects.filter(_due(now), without_job, pk__in=ids).update(enqueued_at=mark)
    claimed = list(
        Delivery.objects.filter(pk__in=ids, enqueued_at=mark).values_list("pk", flat=True)
    )
    enqueue_deliveries(claimed)  # one fan-out job; a broker outage clears enqueued_at
    return claimed


def redeliver(delivery: Delivery) -> Delivery:
    """A new row sending the same event (same body and event id) again; sent after commit."""
    now = timezone.now()
    with transaction.atomic():
        copy = Delivery.objects.create(
            endpoint_id=delivery.endpoint_id,
            event=delivery.event,
            event_id=delivery.event_id,
            ticket_id=delivery.ticket_id,
            body=delivery.body,
            redelivery_of=delivery,
            created_at=now,
            next_attempt_at=now,
            enqueued_at=now,
        )
        enqueue_deliveries([copy.pk])
    return copy
