"""An endpoint that keeps failing is disabled, and the admins are told (internal mail)."""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mailboxes.notifications import queue_admin_notices
from webhooks.models import Endpoint

logger = logging.getLogger(__name__)


def count_failure(endpoint_id: int, error: str) -> bool:
    """One more failure in a row; at WEBHOOK_DISABLE_AFTER_FAILURES the endpoint is disabled
    and the admins are mailed. True when this call disabled it.

    The conditional UPDATE matches once, so one mail however many workers fail at once.
    """
    limit = settings.WEBHOOK_DISABLE_AFTER_FAILURES
    with transaction.atomic():
        Endpoint.objects.filter(pk=endpoint_id).update(
            consecutive_failures=F("consecutive_failures") + 1
        )
        disabled = Endpoint.objects.filter(
            pk=endpoint_id, active=True, consecutive_failures__gte=limit
        ).update(active=False, disabled_at=timezone.now(), disabled_reason=error[:255])
        if disabled:
            _tell_admins(Endpoint.objects.get(pk=endpoint_id), error)
    if disabled:
        logger.warning("webhooks.endpoint_disabled endpoint=%s error=%s", endpoint_id, error)
    return bool(disabled)


def _tell_admins(endpoint: Endpoint, error: str) -> None:
    link = settings.SITE_URL.rstrip("/") + endpoint.get_absolute_url()
    context = {
        "endpoint": endpoint,
        "failures": endpoint.consecutive_failures,
        "error": error,
        "link": link,
    }
    queue_admin_notices("webhooks/emails/endpoint_disabled", context)
