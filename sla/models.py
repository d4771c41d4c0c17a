"""Business calendars, SLA policies, per-ticket deadlines and consultations with departments."""

from datetime import time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from people.models import Department, Organization
from sla.business_time import END_OF_DAY, Schedule
from sla.querysets import ConsultationQuerySet, DeadlineQuerySet, PolicyQuerySet
from tickets.models import Message, Pool, Ticket, Topic
from tickets.states import Priority


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("“%(value)s” is not an IANA time zone (e.g. America/Sao_Paulo)."),
            params={"value": value},
        ) from None


def validate_country(value: str) -> None:
    import holidays

    if value and value.upper() not in holidays.list_supported_countries():
        raise ValidationError(
            _("The holidays package knows no country “%(value)s” (use ISO codes: BR, PL)."),
            params={"value": value},
        )


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class BusinessCalendar(models.Model):
    """When a team works: weekly hours in a time zone, minus public and custom closed days."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        validators=[validate_time_zone],
        help_text=_("IANA name, e.g. America/Sao_Paulo or Europe/Warsaw."),
    )
    holiday_country = models.CharField(
        _("public holidays of"),
        max_length=3,
        blank=True,
        validators=[validate_country],
        help_text=_("ISO country code (BR, PL...); empty for no public holidays."),
    )
    holiday_subdivision = models.CharField(
        _("state or region"),
        max_length=10,
        blank=True,
        help_text=_("Subdivision code for regional holidays, e.g. SP for São Paulo."),
    )
    out_of_hours_reply = models.TextField(
        _("out-of-hours text"),
        blank=True,
        help_text=_("Added to the automatic reply when a ticket arrives outside working hours."),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")

    def __str__(self):
        return self.name

    def clean(self):
        self.holiday_country = self.holiday_country.upper()
        self.holiday_subdivision = self.holiday_subdivision.upper()
        if self.holiday_subdivision and not self.holiday_country:
            raise ValidationError({"holiday_subdivision": _("Choose the country first.")})
        if self.holiday_country and self.holiday_subdivision:
            import holidays

            known = holidays.list_supported_countries().get(self.holiday_country, [])
            if self.holiday_subdivision not in known:
                raise ValidationError(
                    {"holiday_subdivision": _("Unknown subdivision for this country.")}
                )

    def schedule(self) -> Schedule:
        """The calendar as plain data for the arithmetic (two queries)."""
        intervals: dict[int, list[tuple[time, time | None]]] = {}
        for row in self.intervals.all():
            end = None if row.end >= END_OF_DAY else row.end
            intervals.setdefault(row.weekday, []).append((row.start, end))
        return Schedule(
            zone=ZoneInfo(self.time_zone),
            intervals={day: tuple(sorted(spans)) for day, spans in intervals.items()},
            closed=frozenset(self.closed_days.values_list("date", flat=True)),
            country=self.holiday_country,
            subdivision=self.holiday_subdivision,
        )


class WorkingInterval(models.Model):
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="intervals"
    )
    weekday = models.PositiveSmallIntegerField(_("weekday"), choices=Weekday)
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"), help_text=_("23:59 means until the end of the day."))

    class Meta:
        ordering = ["weekday", "start"]
        verbose_name = _("working interval")
        verbose_name_plural = _("working intervals")
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=models.F("start")), name="sla_interval_ends_after_start"
            )
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.start:%H:%M}-{self.end:%H:%M}"

    def clean(self):
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValidationError({"end": _("The interval must end after it starts.")})


class ClosedDay(models.Model):
    """A day the team does not work besides public holidays (company holiday, bridge day)."""

    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="closed_days"
    )
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("closed day")
        verbose_name_plural = _("closed days")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="sla_unique_closed_day")
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.name}".strip()


class Target(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    NEXT_RESPONSE = "next_response", _("Next response")
    RESOLUTION = "resolution", _("Resolution")
    CONSULTATION = "consultation", _("Consultation")


class SlaPolicy(models.Model):
    """Which tickets get which deadlines; the first active match by order wins."""

    class ReminderUnit(models.TextChoices):
        MINUTES = "minutes", _("business minutes before the deadline")
        PERCENT = "percent", _("percent of the time before the deadline")

    name = models.CharField(_("name"), max_length=100, unique=True)
    order = models.PositiveIntegerField(_("order"), default=100, help_text=_("Lowest first."))
    active = models.BooleanField(_("active"), default=True)
    pool = models.ForeignKey(
        Pool, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("pool"), help_text=_("Empty: any pool."),
    )  # fmt: skip
    topic = models.ForeignKey(
        Topic, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("topic"), help_text=_("Empty: any topic."),
    )  # fmt: skip
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=Priority, null=True, blank=True, help_text=_("Empty: any.")
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("organization"), help_text=_("Empty: any customer."),
    )  # fmt: skip
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, related_name="policies",
        verbose_name=_("calendar"),
    )  # fmt: skip
    first_response_minutes = models.PositiveIntegerField(
        _("first response within"), null=True, blank=True, help_text=_("Business minutes.")
    )
    next_response_minutes = models.PositiveIntegerField(
        _("next response within"),
        null=True,
        blank=True,
        help_text=_("Business minutes from each customer message after the first answer."),
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution within"), null=True, blank=True, help_text=_("Business minutes.")
    )
    reminder_before = models.PositiveIntegerField(
        _("remind"), null=True, blank=True, help_text=_("Empty: no reminder.")
    )
    reminder_unit = models.CharField(
        _("reminder unit"), max_length=10, choices=ReminderUnit, default=ReminderUnit.MINUTES
    )
    notify_supervisors = models.BooleanField(
        _("on breach, mail the pool's supervisors"), default=True
    )
    notify_manager = models.BooleanField(_("on breach, mail the ticket's manager"), default=False)
    notify_watchers = models.BooleanField(_("on breach, mail the watchers"), default=False)
    raise_priority = models.BooleanField(_("on breach, raise the priority"), default=False)
    reassign_pool = models.ForeignKey(
        Pool, on_delete=models.SET_NULL, null=True, blank=True, related_name="+",
        verbose_name=_("on breach, move to pool"),
    )  # fmt: skip
    reassign_agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("on breach, give to agent"),
    )  # fmt: skip

    objects = PolicyQuerySet.as_manager()

    class Meta:
        ordering = ["order", "pk"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self):
        return self.name

    def clean(self):
        if not any(
            (self.first_response_minutes, self.next_response_minutes, self.resolution_minutes)
        ):
            raise ValidationError(_("Set at least one target."))
        if self.reminder_unit == self.ReminderUnit.PERCENT and (self.reminder_before or 0) >= 100:
            raise ValidationError({"reminder_before": _("A percentage must be below 100.")})

    def applies_to(self, *, pool_id, topic_id, priority, organization_id) -> bool:
        """In Python what ``SlaPolicy.objects.matching`` asks the database (active aside)."""
        return (
            self.pool_id in (None, pool_id)
            and self.topic_id in (None, topic_id)
            and self.priority in (None, priority)
            and self.organization_id in (None, organization_id)
        )

    def budget(self, target: str) -> int | None:
        """Business seconds allowed for ``target``, None when the policy has no such target."""
        budgets: dict[str, int | None] = {
            Target.FIRST_RESPONSE: self.first_response_minutes,
            Target.NEXT_RESPONSE: self.next_response_minutes,
            Target.RESOLUTION: self.resolution_minutes,
        }
        minutes = budgets.get(target)
        return minutes * 60 if minutes else None

    def reminder_lead(self, budget: int) -> int | None:
        """Business seconds before the deadline at which to remind, or None."""
        if not self.reminder_before:
            return None
        if self.reminder_unit == self.ReminderUnit.PERCENT:
            return budget * self.reminder_before // 100
        return self.reminder_before * 60


class PoolClosing(models.Model):
    """A pool's working calendar, and how long a resolved ticket waits for the customer.

    A pool without a row closes resolved tickets after ``settings.AUTO_CLOSE_BUSINESS_DAYS``
    working days, Monday to Friday in the site's time zone.
    """

    pool = models.OneToOneField(
        Pool, on_delete=models.CASCADE, related_name="closing", verbose_name=_("pool")
    )
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("calendar"),
        help_text=_("Empty: Monday to Friday in the site's time zone, no holidays."),
    )  # fmt: skip
    close_resolved_after_days = models.PositiveSmallIntegerField(
        _("close resolved tickets after (working days)"),
        default=3,
        help_text=_(
            "Working days without a reply from the customer; 0 keeps resolved tickets open "
            "until the customer approves or an agent closes them."
        ),
    )

    class Meta:
        verbose_name = _("pool closing rule")
        verbose_name_plural = _("pool closing rules")

    def __str__(self):
        return str(self.pool)


class Deadline(models.Model):
    """One target's clock on one ticket: running, paused, met or cancelled.

    Time is kept in business seconds: ``consumed`` before the current run and the run's
    start (``running_since``); ``due_at`` and ``remind_at`` follow from the calendar and
    are None while paused. ``reminded_at`` and ``breached_at`` are each set once, by a
    conditional UPDATE that is the claim for the reminder mail or the escalation.
    """

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        MET = "met", _("Met")
        CANCELLED = "cancelled", _("Cancelled")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="deadlines")
    # The ticket's pool, copied (and kept up to date on a move) so the dashboard counts and
    # filters per pool from the deadline index alone, without joining a million tickets.
    pool = models.ForeignKey(
        Pool, on_delete=models.CASCADE, related_name="+", db_index=False, verbose_name=_("pool")
    )
    target = models.CharField(_("target"), max_length=20, choices=Target)
    policy = models.ForeignKey(
        SlaPolicy, on_delete=models.SET_NULL, null=True, blank=True, related_name="deadlines"
    )
    consultation = models.OneToOneField(
        "Consultation", on_delete=models.CASCADE, null=True, blank=True, related_name="deadline"
    )
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.RUNNING)
    budget_seconds = models.PositiveIntegerField(_("allowed (s)"))
    consumed_seconds = models.PositiveIntegerField(_("used before the current run (s)"), default=0)
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    running_since = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    remind_at = models.DateTimeField(_("remind at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded"), null=True, blank=True)
    breached_at = models.DateTimeField(_("breached"), null=True, blank=True)
    met_at = models.DateTimeField(_("met"), null=True, blank=True)

    objects = DeadlineQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "pk"]
        verbose_name = _("deadline")
        verbose_name_plural = _("deadlines")
        indexes = [
            # The sweep's two queries and the dashboard: partial, so they stay small.
            models.Index(
                fields=["remind_at"],
                condition=Q(state="running", reminded_at__isnull=True, remind_at__isnull=False),
                name="deadline_remind_idx",
            ),
            models.Index(
                fields=["due_at"],
                condition=Q(state="running", breached_at__isnull=True),
                name="deadline_breach_idx",
            ),
            models.Index(
                fields=["due_at", "target"],
                condition=Q(state="running"),
                name="deadline_running_idx",
            ),
            models.Index(
                fields=["pool", "due_at"],
                condition=Q(state="running"),
                name="deadline_pool_running_idx",
            ),
            models.Index(fields=["ticket", "state"], name="deadline_ticket_idx"),
            models.Index(fields=["target", "met_at"], name="deadline_report_idx"),
            # The reports' "missed in the period" (met ones read deadline_report_idx).
            models.Index(
                fields=["breached_at"],
                condition=Q(breached_at__isnull=False),
                name="deadline_breached_idx",
            ),
        ]
        constraints = [
            # One live clock per ticket and target, whatever races the events.
            models.UniqueConstraint(
                fields=["ticket", "target"],
                condition=Q(state__in=["running", "paused"]) & ~Q(target="consultation"),
                name="deadline_one_live_per_target",
            )
        ]

    def __str__(self):
        return f"{self.ticket_id} {self.target} {self.state}"

    @property
    def met_in_time(self) -> bool | None:
        """For reports: True met on time, False missed, None still open."""
        if self.breached_at is not None:
            return False
        return True if self.state == self.State.MET else None


class Consultation(models.Model):
    """A question to an internal department about a ticket, and when it was answered."""

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for the department")
        ANSWERED = "answered", _("Answered")
        CANCELLED = "cancelled", _("Cancelled")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="consultations")
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="consultations",
        verbose_name=_("department"),
    )  # fmt: skip
    consultant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="consultations", verbose_name=_("asked by"),
    )  # fmt: skip
    question = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answer = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.OPEN)
    asked_at = models.DateTimeField(_("asked"), default=timezone.now)
    due_at = models.DateTimeField(_("answer due"))
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    next_reminder_at = models.DateTimeField(_("next reminder"), null=True, blank=True)
    reminders_sent = models.PositiveIntegerField(_("reminders sent"), default=0)

    objects = ConsultationQuerySet.as_manager()

    class Meta:
        ordering = ["-asked_at"]
        verbose_name = _("consultation")
        verbose_name_plural = _("consultations")
        indexes = [
            models.Index(
                fields=["next_reminder_at"],
                condition=Q(state="open"),
                name="consultation_reminder_idx",
            ),
            models.Index(fields=["ticket", "state"], name="consultation_ticket_idx"),
            models.Index(fields=["department", "asked_at"], name="consultation_report_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["ticket", "department"],
                condition=Q(state="open"),
                name="consultation_one_open_per_department",
            )
        ]

    def __str__(self):
        return f"{self.ticket_id} → {self.department_id}"

    @property
    def answered_on_time(self) -> bool | None:
        """For reports: True answered by the due time, False late, None still open."""
        if self.answered_at is None:
            return None
        return self.answered_at <= self.due_at

    @property
    def period(self) -> timedelta:
        return self.department.response_time


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(available_timezones())]
