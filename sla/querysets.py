"""Reads on SLA rows, written as filters: ``Deadline.objects.reminders_due(now)``."""

from datetime import datetime

from django.db import models
from django.db.models import F, Q


class PolicyQuerySet(models.QuerySet):
    def matching(self, *, pool_id, topic_id, priority, organization_id):
        """Active policies that apply to a ticket with these values, first match first."""
        query = (
            (Q(pool__isnull=True) | Q(pool_id=pool_id))
            & (Q(topic__isnull=True) | Q(topic_id=topic_id))
            & (Q(priority__isnull=True) | Q(priority=priority))
            & (Q(organization__isnull=True) | Q(organization_id=organization_id))
        )
        return self.filter(query, active=True).order_by("order", "pk")


class DeadlineQuerySet(models.QuerySet):
    def live(self):
        return self.filter(state__in=["running", "paused"])

    def running(self):
        return self.filter(state="running")

    def reminders_due(self, now: datetime):
        """Running deadlines past their reminder point, not yet reminded (partial index)."""
        return self.filter(state="running", reminded_at__isnull=True, remind_at__lte=now)

    def breaches_due(self, now: datetime):
        """Running deadlines past due, not yet escalated (partial index)."""
        return self.filter(state="running", breached_at__isnull=True, due_at__lte=now)

    def met_in_time(self):
        """For reports: targets met before they were due."""
        return self.filter(state="met", breached_at__isnull=True)

    def missed(self):
        """For reports: targets that passed their due time, met later or not at all."""
        return self.filter(breached_at__isnull=False)

    def due_before(self, moment: datetime):
        """What the overdue dashboard lists: running, due before ``moment`` (overdue or soon)."""
        return self.filter(state="running", due_at__lte=moment)


class ConsultationQuerySet(models.QuerySet):
    def open(self):
        return self.filter(state="open")

    def answered_on_time(self):
        """For reports: answers that came by the due time."""
        return self.filter(state="answered", answered_at__lte=F("due_at"))

    def answered_late(self):
        return self.filter(state="answered", answered_at__gt=F("due_at"))

    def reminders_due(self, now: datetime):
        """Open consultations whose department should get a reminder (partial index)."""
        return self.filter(state="open", next_reminder_at__lte=now)
