"""Endpoints as admins manage them: create, edit, rotate the secret, enable, redeliver."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.tokens import new_token
from webhooks.models import Delivery, Endpoint
from webhooks.outbox import enqueue_deliveries

# After a rotation the old secret still signs (a second v1=) for this long.
ROTATION_GRACE = timedelta(hours=24)


def new_secret() -> str:
    return new_token("whsec")


@transaction.atomic
def create_endpoint(*, name: str, url: str, events: list[str], pools, active: bool, actor):
    """A new endpoint with a fresh secret; returns (endpoint, secret) to show the secret once."""
    secret = new_secret()
    endpoint = Endpoint.objects.create(
        name=name, url=url, events=list(events), active=active, secret=secret, created_by=actor
    )
    endpoint.pools.set(pools)
    return endpoint, secret


@transaction.atomic
def update_endpoint(endpoint: Endpoint, *, name: str, url: str, events, pools, active: bool):
    """Save an admin's edit; switching it on is ``enable_endpoint`` (its waiting rows go)."""
    was_active = endpoint.active
    endpoint.name, endpoint.url, endpoint.events = name, url, list(events)
    endpoint.save(update_fields=["name", "url", "events"])
    endpoint.pools.set(pools)
    if active and not was_active:
        enable_endpoint(endpoint)
    elif not active and was_active:
        Endpoint.objects.filter(pk=endpoint.pk).update(active=False)
    endpoint.refresh_from_db()
    return endpoint


@transaction.atomic
def rotate_secret(endpoint: Endpoint, *, now=None) -> str:
    """A new secret; the old one keeps signing beside it for ROTATION_GRACE. Returns it once."""
    now = now or timezone.now()
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_until = now + ROTATION_GRACE
    endpoint.secret = secret
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_until"])
    return secret


@transaction.atomic
def enable_endpoint(endpoint: Endpoint) -> int:
    """Switch an endpoint on, forget its failures, and send what waited; how many rows."""
    now = timezone.now()
    Endpoint.objects.filter(pk=endpoint.pk).update(
        active=True, consecutive_failures=0, disabled_at=None, disabled_reason=""
    )
    waiting = Delivery.objects.filter(
        endpoint=endpoint, state__in=[Delivery.State.QUEUED, Delivery.State.RETRY]
    )
    ids = list(waiting.values_list("pk", flat=True))
    waiting.update(next_attempt_at=now, enqueued_at=now)
    enqueue_deliveries(ids)
    return len(ids)


def disable_reason_label(endpoint: Endpoint) -> str:
    if endpoint.active:
        return ""
    if endpoint.disabled_at is None:
        return _("Switched off by an admin.")
    return _("Disabled after %(count)s failures in a row: %(error)s") % {
        "count": endpoint.consecutive_failures,
        "error": endpoint.disabled_reason,
    }
