"""One mail per person for the reminders and escalations of one sweep round.

A supervisor of a busy pool used to get one mail per ticket and target, hundreds at once
after a quiet weekend. The sweep collects what each person is told here and queues one
mail each: the usual single-ticket mail when there is one item (it threads on the
ticket), a digest listing the tickets when there are more.
"""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import translation

from mailboxes.emails import language_of, render_files
from mailboxes.notifications import queue_automatic_email
from mailboxes.outbound import queue_notification
from sla.models import Deadline
from sla.notifications import sla_email, ticket_url, time_zone_of

logger = logging.getLogger(__name__)


@dataclass
class _Item:
    kind: str  # "reminder" or "breach": the names of the single mail's templates
    deadline: Deadline


@dataclass
class Digest:
    """What each person is to be told, by user id, in the order it was added."""

    people: dict[int, tuple] = field(default_factory=dict)  # pk -> (user, [items])

    def add(self, kind: str, deadline: Deadline, recipients: list) -> None:
        for user in recipients:
            if user is None or not user.email:
                continue
            self.people.setdefault(user.pk, (user, []))[1].append(_Item(kind, deadline))

    def merge(self, other: "Digest") -> None:
        for user, items in other.people.values():
            self.people.setdefault(user.pk, (user, []))[1].extend(items)

    def queue(self) -> int:
        """Queue one outbox row per person (internal mail); the number queued.

        One person's mail that fails is logged and skipped (its own savepoint), so it can
        never roll back, and so repeat, the sweep round's claims for everyone.
        """
        queued = 0
        for user, items in self.people.values():
            try:
                with transaction.atomic():
                    if len(items) == 1:
                        _queue_single(user, items[0])
                    else:
                        _queue_digest(user, items)
            except Exception:
                logger.exception("sla.digest_failed user=%s items=%d", user.pk, len(items))
                continue
            queued += 1
        self.people = {}
        return queued


def _zone(user, deadline: Deadline) -> str:
    calendar_zone = deadline.policy.calendar.time_zone if deadline.policy else ""
    return time_zone_of(user, default=calendar_zone)


def _queue_single(user, item: _Item) -> None:
    deadline = item.deadline
    zone = _zone(user, deadline)
    rendered = sla_email(
        item.kind,
        {
            "ticket": deadline.ticket,
            "deadline": deadline,
            "target": deadline.get_target_display(),
            "time_zone": zone,
        },
        language=language_of(user),
        time_zone=zone,
    )
    queue_notification(
        deadline.ticket, to=[user.email], subject=rendered.subject, body_text=rendered.body_text
    )


def _queue_digest(user, items: list[_Item]) -> None:
    language = language_of(user) or settings.LANGUAGE_CODE
    with translation.override(language):
        entries = [
            {
                "kind": item.kind,
                "ticket": item.deadline.ticket,
                "deadline": item.deadline,
                "target": item.deadline.get_target_display(),
                "time_zone": _zone(user, item.deadline),
                "url": ticket_url(item.deadline.ticket),
            }
            for item in items
        ]
        context = {
            "breaches": [entry for entry in entries if entry["kind"] == "breach"],
            "reminders": [entry for entry in entries if entry["kind"] == "reminder"],
            "count": len(entries),
        }
        rendered = render_files("sla/emails/digest", context)
    queue_automatic_email(to_address=user.email, rendered=rendered, to_customer=False)
