"""The agents' digests: one mail per agent and period listing what they chose to read later.

An hourly digest goes at the first run after the hour turns, a daily one at the first run
after 08:00 in the agent's time zone (``DIGEST_HOUR``), each with every item stored before
it. While the agent is away their substitute gets it; with no substitute (or no address)
the items are dropped, as their mail would have been.
"""

import logging
import uuid
import zoneinfo
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Min
from django.utils import timezone, translation

from mailboxes.agent_notifications import address_of
from mailboxes.edited_mail import name_of
from mailboxes.emails import language_of, render_files
from mailboxes.models import NotificationPreference, PendingNotification
from mailboxes.notifications import AutomaticMail, queue_automatic_emails, ticket_link
from mailboxes.preferences import absences_along, preferences_of, reader_of

logger = logging.getLogger(__name__)

Period = NotificationPreference.Period
DIGEST_HOUR = 8


def _zone(user) -> zoneinfo.ZoneInfo:
    profile = getattr(user, "agent_profile", None)
    try:
        return zoneinfo.ZoneInfo((profile.time_zone if profile else "") or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def period_start(period: str, now: datetime, zone) -> datetime:
    """When the period that ``now`` is in began: the hour, or the last 08:00 in ``zone``."""
    if period == Period.HOURLY:
        return now.replace(minute=0, second=0, microsecond=0)
    local = now.astimezone(zone)
    start = local.replace(hour=DIGEST_HOUR, minute=0, second=0, microsecond=0)
    return start if start <= local else start - timedelta(days=1)


def send_due_digests(now: datetime | None = None) -> int:
    """Queue the digest of every agent whose period turned since their oldest item; how many.

    Set-based: one query finds who has items and since when, three more read their
    choices, absences and profiles. Safe with two workers or a task run twice: each digest
    claims its rows with one conditional UPDATE (``send_digest``).
    """
    now = now or timezone.now()
    oldest = dict(
        PendingNotification.objects.unsent()
        .values("user_id")
        .annotate(oldest=Min("created_at"))
        .values_list("user_id", "oldest")
        .order_by()
    )
    if not oldest:
        return 0
    choices = preferences_of(oldest)
    away = absences_along(oldest, now)
    users = get_user_model().objects.select_related("agent_profile").in_bulk(oldest)
    sent = 0
    for user_id, first in oldest.items():
        user = users.get(user_id)
        start = period_start(choices[user_id].digest_period, now, _zone(user))
        if user is None or first >= start:
            continue
        try:
            reader = reader_of(user, away)
            sent += bool(send_digest(user, before=start, reader=reader, now=now))
        except Exception:
            logger.exception("digest for user %s failed", user_id)
    return sent


@transaction.atomic
def send_digest(user, *, before: datetime, reader=..., now: datetime | None = None):
    """Claim ``user``'s items stored before ``before`` and queue their digest; the outbox row.

    The claim is one conditional UPDATE (unclaimed → this run's key): a second run, at
    once or later, finds nothing left and sends nothing. The mail is queued in the same
    transaction, so a failure leaves the items for the next run. ``reader``: who reads it
    (``user`` unless given; None, nobody: the items are claimed and dropped).
    """
    now = now or timezone.now()
    key = uuid.uuid4()
    claimed = (
        PendingNotification.objects.unsent()
        .filter(user=user, created_at__lt=before)
        .update(claimed_at=now, claim=key)
    )
    if not claimed:
        return None
    if reader is ...:
        reader = user
    if reader is None or not reader.is_active or not reader.email:
        return None  # nobody to read it: dropped, as their mail would have been
    items = list(
        PendingNotification.objects.filter(claim=key)
        .select_related("ticket")
        .order_by("created_at", "pk")
    )
    with translation.override(language_of(reader)):
        context = {
            "recipient_name": name_of(reader),
            "on_behalf_of": name_of(user) if reader != user else "",
            "count": len(items),
            "items": [
                {
                    "topic": item.get_topic_display(),
                    "ticket": item.ticket,
                    "detail": item.detail,
                    "link": ticket_link(item.ticket),
                }
                for item in items
            ],
        }
        rendered = render_files("mailboxes/emails/digest", context)
    rows = queue_automatic_emails([AutomaticMail(address_of(reader), rendered, to_customer=False)])
    if rows:
        PendingNotification.objects.filter(claim=key).update(outgoing=rows[0])
    return rows[0] if rows else None
