"""What reports need that the tickets and sla tables do not keep: business durations and
dated events, one row per ticket (and per event), kept by the domain events.

Both tables are derived data: ``refresh_facts`` recomputes a ticket's rows from the
tickets, sla and history tables, and ``manage.py rebuild_report_facts`` rebuilds them all.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from sla.models import BusinessCalendar
from tickets.models import Ticket


class TicketFact(models.Model):
    """One ticket's durations in calendar and in business time, and how it ended."""

    ticket = models.OneToOneField(
        Ticket, on_delete=models.CASCADE, primary_key=True, related_name="report_fact"
    )
    # The calendar of the ticket's SLA policy; None: no policy, business time is clock time.
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Copies of the ticket's, indexed here so a period's figures read this table alone
    # (the channel never changes once a ticket exists).
    created_at = models.DateTimeField()
    channel = models.CharField(max_length=10, blank=True)
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_response_seconds = models.PositiveIntegerField(null=True, blank=True)
    first_response_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    # When the ticket was last solved (resolved, or closed without resolving first); None
    # while open, and for cancelled and merged tickets (they were not solved).
    finished_at = models.DateTimeField(null=True, blank=True)
    handling_seconds = models.PositiveIntegerField(null=True, blank=True)
    handling_business_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Solved with a missed SLA deadline (first response, next response or resolution).
    late = models.BooleanField(default=False)
    # A department was consulted about the ticket (any consultation, answered or not).
    consulted = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("ticket fact")
        verbose_name_plural = _("ticket facts")
        indexes = [
            models.Index(fields=["created_at"], name="fact_created_idx"),
            models.Index(
                fields=["first_response_at"],
                condition=models.Q(first_response_at__isnull=False),
                name="fact_first_response_idx",
            ),
            models.Index(
                fields=["finished_at"],
                condition=models.Q(finished_at__isnull=False),
                name="fact_finished_idx",
            ),
        ]

    def __str__(self):
        return f"facts of {self.ticket_id}"


class ReportEvent(models.Model):
    """A dated event reports count per period: a reopen, a customer reply after closing."""

    class Kind(models.TextChoices):
        REOPENED = "reopened", _("Reopened")
        REPLY_AFTER_CLOSE = "reply_after_close", _("Customer reply after closing")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="report_events")
    kind = models.CharField(max_length=20, choices=Kind)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("report event")
        verbose_name_plural = _("report events")
        indexes = [
            models.Index(fields=["kind", "at"], name="report_event_kind_at_idx"),
            models.Index(fields=["ticket", "kind"], name="report_event_ticket_idx"),
        ]

    def __str__(self):
        return f"{self.ticket_id} {self.kind} {self.at:%Y-%m-%d %H:%M}"
