from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from helpdesk.celery import enqueue_on_commit
from sla.models import (
    BusinessCalendar,
    ClosedDay,
    Consultation,
    Deadline,
    PoolClosing,
    SlaPolicy,
    WorkingInterval,
    time_zone_choices,
)


class WorkingIntervalInline(admin.TabularInline):
    model = WorkingInterval
    extra = 1


class ClosedDayInline(admin.TabularInline):
    model = ClosedDay
    extra = 1


class BusinessCalendarForm(forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("time zone"), choices=time_zone_choices)

    class Meta:
        model = BusinessCalendar
        fields = [
            "name",
            "time_zone",
            "holiday_country",
            "holiday_subdivision",
            "out_of_hours_reply",
        ]


def _recompute(request, ticket_ids) -> None:
    """Queue a recomputation of the tickets' deadlines, after this request's commit."""
    from sla.tasks import apply_policies_task

    ticket_ids = sorted(set(ticket_ids))
    if ticket_ids:
        enqueue_on_commit(apply_policies_task, ticket_ids)
    messages.info(
        request,
        ngettext(
            "The deadlines of %(count)d open ticket will be recomputed.",
            "The deadlines of %(count)d open tickets will be recomputed.",
            len(ticket_ids),
        )
        % {"count": len(ticket_ids)},
    )


@admin.register(BusinessCalendar)
class BusinessCalendarAdmin(admin.ModelAdmin):
    form = BusinessCalendarForm
    list_display = ["name", "time_zone", "holiday_country", "holiday_subdivision"]
    search_fields = ["name"]
    inlines = [WorkingIntervalInline, ClosedDayInline]
    actions = ["recompute_deadlines"]

    @admin.action(description=_("Recompute the deadlines of open tickets on these calendars"))
    def recompute_deadlines(self, request, queryset):
        live = Deadline.objects.live().filter(policy__calendar__in=queryset)
        _recompute(request, live.values_list("ticket_id", flat=True))


TARGET_FIELDS: list[str | list[str] | tuple[str, ...] | tuple[()]] = [
    "first_response_minutes",
    "next_response_minutes",
    "resolution_minutes",
]
ESCALATION_FIELDS: list[str | list[str] | tuple[str, ...] | tuple[()]] = [
    "notify_supervisors",
    "notify_manager",
    "notify_watchers",
    "raise_priority",
    "reassign_pool",
    "reassign_agent",
]


@admin.register(SlaPolicy)
class SlaPolicyAdmin(admin.ModelAdmin):
    list_display = [
        "name", "order", "active", "pool", "topic", "priority", "organization", "calendar",
        "first_response_minutes", "next_response_minutes", "resolution_minutes",
    ]  # fmt: skip
    list_editable = ["order", "active"]
    list_filter = ["active", "calendar", "pool"]
    list_select_related = ["pool", "topic", "organization", "calendar"]
    search_fields = ["name"]
    autocomplete_fields = ["organization", "reassign_agent", "calendar"]
    actions = ["recompute_deadlines"]
    fieldsets = [
        (None, {"fields": ["name", "order", "active", "calendar"]}),
        (_("Applies to"), {"fields": ["pool", "topic", "priority", "organization"]}),
        (_("Targets"), {"fields": TARGET_FIELDS}),
        (_("Reminder"), {"fields": ["reminder_before", "reminder_unit"]}),
        (_("Escalation on breach"), {"fields": ESCALATION_FIELDS}),
    ]

    @admin.action(description=_("Recompute the deadlines of open tickets (after editing)"))
    def recompute_deadlines(self, request, queryset):
        # The tickets these policies hold are matched again, so one may also move to
        # another policy (an edited filter, order or target).
        live = Deadline.objects.live().filter(policy__in=queryset)
        _recompute(request, live.values_list("ticket_id", flat=True))


@admin.register(Deadline)
class DeadlineAdmin(admin.ModelAdmin):
    list_display = ["ticket", "target", "state", "due_at", "reminded_at", "breached_at", "met_at"]
    list_filter = ["target", "state"]
    list_select_related = ["ticket"]
    search_fields = ["ticket__number"]
    date_hierarchy = "started_at"
    readonly_fields = [field.name for field in Deadline._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Consultation)
class ConsultationAdmin(admin.ModelAdmin):
    list_display = [
        "ticket", "department", "consultant", "state", "asked_at", "due_at", "answered_at",
        "reminders_sent", "on_time",
    ]  # fmt: skip
    list_filter = ["state", "department"]
    list_select_related = ["ticket", "department", "consultant"]
    search_fields = ["ticket__number", "department__name"]
    date_hierarchy = "asked_at"
    readonly_fields = [field.name for field in Consultation._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.display(boolean=True, description=_("on time"))
    def on_time(self, obj):
        return obj.answered_on_time


@admin.register(PoolClosing)
class PoolClosingAdmin(admin.ModelAdmin):
    list_display = ["pool", "calendar", "close_resolved_after_days"]
    list_select_related = ["pool", "calendar"]
