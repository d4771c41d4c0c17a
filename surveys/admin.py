from django.contrib import admin

from surveys.models import (
    Answer,
    Dictionary,
    DictionaryItem,
    MailboxSurveySettings,
    PoolSurveySettings,
    Question,
    Questionnaire,
    Response,
    SurveyInvitation,
)


class DictionaryItemInline(admin.TabularInline):
    model = DictionaryItem
    extra = 2


@admin.register(Dictionary)
class DictionaryAdmin(admin.ModelAdmin):
    search_fields = ["name"]
    inlines = [DictionaryItemInline]


class QuestionInline(admin.StackedInline):
    model = Question
    extra = 1
    autocomplete_fields = ["dictionary"]


@admin.register(Questionnaire)
class QuestionnaireAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name"]
    inlines = [QuestionInline]


@admin.register(PoolSurveySettings)
class PoolSurveySettingsAdmin(admin.ModelAdmin):
    list_display = [
        "pool",
        "satisfaction_enabled",
        "satisfaction_questionnaire",
        "disposition_questionnaire",
        "disposition_required",
        "operator_rating_questionnaire",
    ]
    list_select_related = [
        "pool",
        "satisfaction_questionnaire",
        "disposition_questionnaire",
        "operator_rating_questionnaire",
    ]


@admin.register(MailboxSurveySettings)
class MailboxSurveySettingsAdmin(admin.ModelAdmin):
    list_display = ["mailbox", "disposition_questionnaire"]
    list_select_related = ["mailbox", "disposition_questionnaire"]


@admin.register(SurveyInvitation)
class SurveyInvitationAdmin(admin.ModelAdmin):
    """Read-only: the link itself is never shown (it is a bearer credential)."""

    list_display = ["ticket", "questionnaire", "address", "created_at", "expires_at", "answered_at"]
    list_filter = ["questionnaire"]
    search_fields = ["ticket__number", "address"]
    list_select_related = ["ticket", "questionnaire"]
    exclude = ["nonce"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    fields = ["question", "number", "text", "choices"]
    readonly_fields = ["question", "number", "text", "choices"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Response)
class ResponseAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind", "questionnaire", "agent", "pool", "department", "created_at"]
    list_filter = ["kind", "questionnaire", "pool", "department", "sector"]
    search_fields = ["ticket__number"]
    list_select_related = ["ticket", "questionnaire", "agent", "pool", "department"]
    readonly_fields = [
        "questionnaire",
        "kind",
        "ticket",
        "agent",
        "pool",
        "department",
        "sector",
        "contact",
        "invitation",
        "created_at",
    ]
    inlines = [AnswerInline]

    def has_add_permission(self, request):
        return False
