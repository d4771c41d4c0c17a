"""Webhook endpoints (an admin's URL, events, pools, secret) and their delivery outbox."""

import json

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.crypto import EncryptedTextField
from tickets.models import Pool, Ticket


class Endpoint(models.Model):
    """A URL of an integration that is told about events of some pools, signed with a secret."""

    name = models.CharField(_("name"), max_length=100)
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    pools = models.ManyToManyField(
        Pool,
        related_name="+",
        verbose_name=_("pools"),
        help_text=_("Only events of tickets in these pools are sent to this URL."),
    )
    active = models.BooleanField(_("active"), default=True)
    # Kept encrypted (we need it to sign); shown once, when made or rotated.
    secret = EncryptedTextField(_("signing secret"), editable=False)
    # The secret before the last rotation still signs (a second v1=) until this time, so
    # that a receiver can switch to the new one without losing a delivery.
    previous_secret = EncryptedTextField(blank=True, editable=False)
    previous_secret_until = models.DateTimeField(null=True, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(_("failures in a row"), default=0)
    disabled_at = models.DateTimeField(_("disabled"), null=True, blank=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self):
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("webhooks:detail", args=[self.pk])

    def event_labels(self) -> list:
        from webhooks.events import BY_NAME

        return [BY_NAME[name].label if name in BY_NAME else name for name in self.events]

    def signing_secrets(self, now=None) -> list[str]:
        """The secrets a delivery is signed with now: the current one, and the previous one
        during its grace period after a rotation."""
        now = now or timezone.now()
        secrets = [self.secret]
        if self.previous_secret and self.previous_secret_until and self.previous_secret_until > now:
            secrets.append(self.previous_secret)
        return secrets


class Delivery(models.Model):
    """One event for one endpoint: the outbox row, claimed, sent, retried with back-off.

    States: queued -> sending -> delivered, or -> retry -> ... -> failed. The body is made
    when the event happens and never changes, so every attempt (and a redelivery) sends the
    same event with the same ``event_id``; only the signature's timestamp is new.
    """

    class State(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        DELIVERED = "delivered", _("Delivered")
        RETRY = "retry", _("Waiting to retry")
        FAILED = "failed", _("Failed")

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.CharField(_("event"), max_length=50)
    event_id = models.UUIDField(_("event id"))
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("body"))
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.QUEUED)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # When a send job was put on the broker; cleared when a worker claims the row. The sweep
    # enqueues only rows without a job, or whose job is old enough to be lost.
    enqueued_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    response_code = models.PositiveSmallIntegerField(_("response code"), null=True, blank=True)
    response_excerpt = models.TextField(_("response"), blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered"), null=True, blank=True)
    redelivery_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(fields=["endpoint", "-created_at", "-id"], name="delivery_log_idx"),
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(state__in=["queued", "retry", "sending"]),
                name="delivery_due_idx",
            ),
        ]

    def __str__(self):
        return f"{self.event} {self.event_id} -> {self.endpoint_id}"

    @property
    def summary(self) -> str:
        """A line for the log: the ticket's number and subject, and the message's start."""
        try:
            data = json.loads(self.body).get("data", {})
        except (ValueError, AttributeError):
            return self.body
        ticket = data.get("ticket") or {}
        parts = [f"{ticket.get('number', '')} “{ticket.get('subject', '')}”"] if ticket else []
        message = data.get("message") or {}
        if message.get("body_text"):
            parts.append(" ".join(message["body_text"].split()))
        extra = {k: v for k, v in data.items() if k not in ("ticket", "message")}
        if extra:
            parts.append(json.dumps(extra, ensure_ascii=False, default=str))
        return " · ".join(parts) or self.body

    @property
    def is_pending(self) -> bool:
        return self.state in (self.State.QUEUED, self.State.RETRY, self.State.SENDING)
