"""What reports need that the tickets and sla tables do not keep: business durations and
dated events, one row per ticket (and per event), kept by the domain events.

Both tables are derived data: ``refresh_facts`` recomputes a ticket's rows from the
tickets, sla and history tables, and ``manage.py rebuild_report_facts`` rebuilds them all.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sla.models import BusinessCalendar
from tickets.models import Pool, Ticket

# The roll-up keys, in the facts' covering indexes.
_KEYS = ["pool_key", "assignee_key"]


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
    # The pool and agent the ticket's figures were counted for in the daily roll-up (the
    # ticket's at the last refresh): what a refresh takes back out of ReportDay.
    pool_key = models.IntegerField(default=0)
    assignee_key = models.IntegerField(default=0)
    # Open at the last refresh (every change into or out of the open statuses refreshes).
    open = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("ticket fact")
        verbose_name_plural = _("ticket facts")
        # One per date a measure counts on, covering what its measures read (and the pool
        # and agent keys a scope filters on): a period's figures come from an index-only
        # scan of its rows (PostgreSQL; elsewhere plain indexes on the date).
        indexes = [
            models.Index(
                fields=["created_at"], include=["channel", *_KEYS], name="fact_created_cover_idx"
            ),
            models.Index(
                fields=["first_response_at"],
                include=["first_response_seconds", "first_response_business_seconds", *_KEYS],
                condition=models.Q(first_response_at__isnull=False),
                name="fact_responded_cover_idx",
            ),
            models.Index(
                fields=["finished_at"],
                include=[
                    "handling_seconds",
                    "handling_business_seconds",
                    "late",
                    "consulted",
                    *_KEYS,
                ],
                condition=models.Q(finished_at__isnull=False),
                name="fact_solved_cover_idx",
            ),
        ]

    def __str__(self):
        return f"facts of {self.ticket_id}"


class ReportDay(models.Model):
    """The report facts added up per day (in ``settings.TIME_ZONE``), pool and agent.

    Additive figures only (counts, and sums of durations: an average is a sum over a
    count), each on the day of its own timestamp: ``received`` on the day of creation,
    ``responded`` and the first-response sums on the day of the first response,
    ``solved`` and the handling sums on the day of the solution. ``refresh_facts`` adds
    each refreshed ticket's new figures and takes its old ones out (atomic increments);
    ``rebuild_report_facts`` rebuilds it from the facts. Counts of distinct tickets (SLA,
    reopens, consultations, rated tickets) and the survey sums come from each ticket's marks
    (ReportMark, reports.marks); the whole desk's medians from a histogram of the durations
    (ReportDuration, reports.durations).
    """

    day = models.DateField()
    # For grouping and labels; the keys (0: none) are the unique key increments meet on.
    pool = models.ForeignKey(
        Pool, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    pool_key = models.IntegerField()
    assignee_key = models.IntegerField()
    received = models.IntegerField(default=0)
    received_by_mail = models.IntegerField(default=0)
    responded = models.IntegerField(default=0)
    first_response_seconds = models.BigIntegerField(default=0)
    first_response_business_seconds = models.BigIntegerField(default=0)
    solved = models.IntegerField(default=0)
    handling_seconds = models.BigIntegerField(default=0)
    handling_business_seconds = models.BigIntegerField(default=0)
    solved_on_time = models.IntegerField(default=0)
    solved_on_time_consulted = models.IntegerField(default=0)
    solved_late_consulted = models.IntegerField(default=0)
    solved_late = models.IntegerField(default=0)
    # Counts of distinct tickets (reports.marks): the tickets with a mark of the measure on
    # the day (a deadline met or missed that day, a reopen...); a period's count takes out
    # the ticket's later days in it (ReportMark.previous).
    sla_first_response_met = models.IntegerField(default=0)
    sla_first_response_breached = models.IntegerField(default=0)
    sla_next_response_met = models.IntegerField(default=0)
    sla_next_response_breached = models.IntegerField(default=0)
    sla_resolution_met = models.IntegerField(default=0)
    sla_resolution_breached = models.IntegerField(default=0)
    sla_consultation_met = models.IntegerField(default=0)
    sla_consultation_breached = models.IntegerField(default=0)
    reopened = models.IntegerField(default=0)
    replied_after_close = models.IntegerField(default=0)
    consultation_on_time = models.IntegerField(default=0)
    consultation_late = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    scored = models.IntegerField(default=0)
    # Survey answers given that day (reports.marks, kept per ticket like the marks): the
    # satisfaction ratings (1-5), how many are 4 or 5, the 0-10 scores, promoters (9-10)
    # and detractors (0-6), the operators' ratings.
    rating_count = models.IntegerField(default=0)
    rating_sum = models.BigIntegerField(default=0)
    rating_high = models.IntegerField(default=0)
    score_count = models.IntegerField(default=0)
    score_promoters = models.IntegerField(default=0)
    score_detractors = models.IntegerField(default=0)
    operator_count = models.IntegerField(default=0)
    operator_sum = models.BigIntegerField(default=0)

    MARKS = (
        "sla_first_response_met", "sla_first_response_breached", "sla_next_response_met",
        "sla_next_response_breached", "sla_resolution_met", "sla_resolution_breached",
        "sla_consultation_met", "sla_consultation_breached", "reopened",
        "replied_after_close", "consultation_on_time", "consultation_late", "rated", "scored",
    )  # fmt: skip
    ANSWER_SUMS = (
        "rating_count", "rating_sum", "rating_high", "score_count", "score_promoters",
        "score_detractors", "operator_count", "operator_sum",
    )  # fmt: skip
    COUNTS = (
        "received", "received_by_mail", "responded", "first_response_seconds",
        "first_response_business_seconds", "solved", "handling_seconds",
        "handling_business_seconds", "solved_on_time", "solved_on_time_consulted",
        "solved_late_consulted", "solved_late", *MARKS, *ANSWER_SUMS,
    )  # fmt: skip

    class Meta:
        verbose_name = _("report day")
        verbose_name_plural = _("report days")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "pool_key", "assignee_key"], name="report_day_unique"
            ),
        ]

    def __str__(self):
        return f"{self.day} pool {self.pool_key} agent {self.assignee_key}"


class ReportMark(models.Model):
    """A day on which a ticket counts in a count of distinct tickets (a deadline of a target
    met or missed, a reopen, a customer reply after closing, a consultation answered on
    time or late), for the pool and agent of its facts: ReportDay counts the tickets with a
    mark per day; ``previous``, the ticket's mark of the same measure just before, lets a
    period's count take a ticket once (its marks in the period after the first are those
    whose previous mark is in the period too). Kept with ReportDay, rebuilt with it."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="+")
    measure = models.CharField(max_length=40)
    day = models.DateField()
    previous = models.DateField(null=True, blank=True)
    pool_key = models.IntegerField()
    assignee_key = models.IntegerField()
    # 1 for a count of distinct tickets; a survey sum's value (its ticket's answers that
    # day: ANSWER_SUMS), never with a previous day.
    value = models.BigIntegerField(default=1)

    class Meta:
        verbose_name = _("report mark")
        verbose_name_plural = _("report marks")
        constraints = [
            models.UniqueConstraint(fields=["ticket", "measure", "day"], name="report_mark_unique"),
        ]
        indexes = [
            # The repeats a period's counts take out: few rows (a ticket's second day).
            models.Index(
                fields=["day"],
                include=["measure", "previous", *_KEYS],
                condition=models.Q(previous__isnull=False),
                name="report_mark_repeat_idx",
            ),
        ]

    def __str__(self):
        return f"{self.ticket_id} {self.measure} {self.day}"


class ReportDuration(models.Model):
    """How many facts have a duration in each bucket, per day and measure: the histogram
    exact medians walk (reports.durations). The whole desk, no pool or agent."""

    day = models.DateField()
    measure = models.CharField(max_length=40)
    bucket = models.IntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("report duration count")
        verbose_name_plural = _("report duration counts")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "measure", "bucket"], name="report_duration_unique"
            ),
        ]

    def __str__(self):
        return f"{self.day} {self.measure} {self.bucket}: {self.count}"


class ReportDurationValue(models.Model):
    """The same counts per exact value: the values of the one bucket a median falls in
    (reports.durations), read through the unique key (measure, bucket, value, day)."""

    measure = models.CharField(max_length=40)
    bucket = models.IntegerField()
    value = models.BigIntegerField()
    day = models.DateField()
    count = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("report duration value count")
        verbose_name_plural = _("report duration value counts")
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "bucket", "value", "day"], name="report_duration_value_unique"
            ),
        ]

    def __str__(self):
        return f"{self.day} {self.measure} {self.value}: {self.count}"


class ReportOpen(models.Model):
    """The tickets open now, per pool and agent: "Open now" without counting the ticket
    table. Kept with ReportDay (the facts' ``open`` flag), rebuilt with it."""

    pool = models.ForeignKey(
        Pool, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    pool_key = models.IntegerField()
    assignee_key = models.IntegerField()
    open = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("open tickets count")
        verbose_name_plural = _("open tickets counts")
        constraints = [
            models.UniqueConstraint(fields=["pool_key", "assignee_key"], name="report_open_unique"),
        ]

    def __str__(self):
        return f"pool {self.pool_key} agent {self.assignee_key}: {self.open}"


class ReportEvent(models.Model):
    """A dated event reports count per period: a reopen, a customer reply after closing."""

    class Kind(models.TextChoices):
        REOPENED = "reopened", _("Reopened")
        REPLY_AFTER_CLOSE = "reply_after_close", _("Customer reply after closing")

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="report_events")
    kind = models.CharField(max_length=20, choices=Kind)
    at = models.DateTimeField()
    # The ticket's pool and agent at the refresh (every move and assignment refreshes):
    # rows per pool or agent group here, without joining the ticket table.
    pool = models.ForeignKey(
        Pool, on_delete=models.DO_NOTHING, db_constraint=False, null=True, related_name="+"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )

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


class SavedReport(models.Model):
    """A custom report a supervisor built and named: what to show, never the figures.

    ``query`` holds the custom report page's parameters (measures, groupings, filters,
    period); whoever opens it (or receives it by mail) gets it computed in their own
    scope, so sharing a report never shares a pool the reader is not in.
    """

    class Schedule(models.TextChoices):
        NONE = "", _("Not mailed")
        WEEKLY = "weekly", _("Every week (the week before)")
        MONTHLY = "monthly", _("Every month (the month before)")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_reports"
    )
    name = models.CharField(_("name"), max_length=120)
    query = models.JSONField(_("parameters"), default=dict)
    shared_with = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="reports_shared_with_me",
        verbose_name=_("shared with"),
    )
    schedule = models.CharField(_("mailed"), max_length=10, choices=Schedule, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("saved report")
        verbose_name_plural = _("saved reports")
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_report_unique_name"),
        ]

    def __str__(self):
        return self.name


class ReportDelivery(models.Model):
    """A scheduled report mailed for one period: the row that makes the mailing happen once
    per period, however often the beat task runs."""

    report = models.ForeignKey(SavedReport, on_delete=models.CASCADE, related_name="deliveries")
    # The first and last day of the period mailed (the week or month before).
    start = models.DateField()
    end = models.DateField()
    recipients = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-start", "pk"]
        verbose_name = _("report delivery")
        verbose_name_plural = _("report deliveries")
        constraints = [
            models.UniqueConstraint(fields=["report", "start", "end"], name="report_delivery_once"),
        ]

    def __str__(self):
        return f"{self.report_id} {self.start}:{self.end}"
