"""App sessions: the rows behind contact tokens, and signing them out.

Every contact token names a ``ContactToken`` row; ``api.contact_access`` reads that row on
each request (one indexed query, no cache in any process), so a revocation stops the
token at its very next request, whichever process serves it. A revocation keeps who,
when and why on the row (the contact page lists recent ones) and is logged.
"""

import logging

from django.utils import timezone

from api.models import ContactToken

logger = logging.getLogger(__name__)

# A request writes "last used" only when the stored time is older than this: an app polling
# every few seconds costs one UPDATE a minute, not one per request.
LAST_USED_EVERY_SECONDS = 60


def revoke_contact_tokens(sessions, *, actor=None, reason: str) -> int:
    """Revoke the still-active sessions among ``sessions``; returns how many.

    One conditional UPDATE (revoked ones keep their first revocation), so it is safe to
    run twice and two revocations at once count each session once. ``actor`` is the agent
    who did it (None: the contact themselves).
    """
    now = timezone.now()
    ids = list(sessions.filter(revoked_at__isnull=True).values_list("pk", flat=True))
    if not ids:
        return 0
    agent = actor if actor is not None and actor.is_authenticated else None
    count = ContactToken.objects.filter(pk__in=ids, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=agent, revoke_reason=reason
    )
    logger.info(
        "api.contact_tokens_revoked count=%s reason=%s actor=%s ids=%s",
        count,
        reason,
        agent.pk if agent else "contact",
        ids[:50],
    )
    return count


def note_use(session: ContactToken, *, now=None) -> None:
    """Record that the app used ``session`` now (at most once a minute, one UPDATE)."""
    now = now or timezone.now()
    last = session.last_used_at
    if last is not None and (now - last).total_seconds() < LAST_USED_EVERY_SECONDS:
        return
    ContactToken.objects.filter(pk=session.pk).update(last_used_at=now)
    session.last_used_at = now


def sessions_of_contact_for(user, contact):
    """The contact's sessions ``user`` may see: on channels of their pools."""
    return (
        ContactToken.objects.visible_to(user)
        .filter(contact=contact)
        .select_related("channel", "revoked_by")
    )
