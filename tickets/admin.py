from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext_lazy as _

from tickets.models import (
    ActivityLog,
    Attachment,
    CannedResponse,
    CannedResponseFile,
    Pool,
    PoolMembership,
    Product,
    SavedView,
    Tag,
    Ticket,
    Topic,
)
from tickets.services.explain import explain_text


class PoolMembershipInline(admin.TabularInline):
    model = PoolMembership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = ["name", "customer_name", "customers_set_priority", "active"]
    search_fields = ["name"]
    inlines = [PoolMembershipInline]


class ClassificationTestForm(forms.Form):
    text = forms.CharField(
        label=_("Text"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8, "cols": 80, "class": "vLargeTextField"}),
        help_text=_("A subject and body as a customer would write them."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=[("", _("Detect")), *settings.LANGUAGES],
        required=False,
    )


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "default_priority", "active"]
    list_filter = ["pools", "active"]
    search_fields = ["name", "keywords"]
    filter_horizontal = ["pools"]
    change_list_template = "admin/tickets/topic/change_list.html"

    def get_urls(self):
        tester = self.admin_site.admin_view(self.classification_tester)
        return [
            path("classification-tester/", tester, name="tickets_topic_classification_tester"),
            *super().get_urls(),
        ]

    def classification_tester(self, request):
        """Paste a text: the topic, product and skills its keywords match, and why."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ClassificationTestForm(request.POST or None)
        explanation = None
        if request.method == "POST" and form.is_valid():
            text, language = form.cleaned_data["text"], form.cleaned_data["language"]
            explanation = explain_text(text, language=language)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Classification tester"),
            "opts": self.opts,
            "form": form,
            "explanation": explanation,
            "language_name": dict(settings.LANGUAGES).get(explanation.language, "")
            if explanation
            else "",
        }
        return TemplateResponse(request, "admin/tickets/topic/classification_tester.html", context)


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "active"]
    search_fields = ["name", "keywords"]


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


class CannedResponseFileInline(admin.TabularInline):
    model = CannedResponseFile
    extra = 1


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "pool"]
    list_filter = ["pool"]
    search_fields = ["title", "body"]
    autocomplete_fields = ["owner"]
    inlines = [CannedResponseFileInline]


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "shared", "position"]
    list_filter = ["shared"]
    search_fields = ["name", "owner__username", "owner__first_name", "owner__last_name"]
    autocomplete_fields = ["owner"]


class ActivityInline(admin.TabularInline):
    model = ActivityLog
    extra = 0
    can_delete = False
    fields = ["created_at", "actor", "action", "before", "after"]
    readonly_fields = ["created_at", "actor", "action", "before", "after"]

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    # Read-mostly: changes go through the workspace so they are logged and announced.
    list_display = ["number", "subject", "pool", "status", "priority", "assignee", "created_at"]
    list_filter = ["status", "priority", "pool", "channel"]
    search_fields = ["number", "subject"]
    list_select_related = ["pool", "assignee"]
    show_full_result_count = False
    readonly_fields = [
        "number",
        "subject",
        "requester",
        "pool",
        "topic",
        "product",
        "priority",
        "status",
        "channel",
        "assignee",
        "manager",
        "merged_into",
        "created_at",
        "updated_at",
        "first_response_at",
        "resolved_at",
        "closed_at",
        "reopen_count",
    ]
    exclude = ["watchers", "tags", "linked_tickets"]
    inlines = [ActivityInline]

    def has_add_permission(self, request):
        return False


@admin.register(Attachment)
class AttachmentAdmin(admin.ModelAdmin):
    list_display = ["filename", "ticket", "content_type", "size", "created_at"]
    raw_id_fields = ["ticket", "message"]
    show_full_result_count = False
