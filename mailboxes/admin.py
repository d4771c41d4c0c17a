from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from mailboxes import processing
from mailboxes.edited_mail import AUTO_REPLY_VARIABLES, NOTIFICATION_VARIABLES, variables_help
from mailboxes.models import (
    AutoReplyLog,
    EmailTemplate,
    Mailbox,
    NotificationRule,
    NotificationTemplate,
    OutgoingEmail,
    RawMessage,
)
from tickets.downloads import download_response

EDITABLE = [
    "name",
    "kind",
    "pool",
    "active",
    "fetch_interval",
    "from_address",
    "from_name",
    "auto_reply",
    "language",
    "host",
    "port",
    "security",
    "username",
    "password",
    "folder",
    "after_import",
    "move_to_folder",
    "trusted_authserv_id",
    "maildir_path",
    "next_fetch_at",
]
FETCH_STATUS = ["last_fetch_at", "last_success_at", "last_error", "consecutive_failures"]

# The stored file is offered only as a download (never by its storage URL, inline).
RAW_MESSAGE_FIELDS = (
    "mailbox",
    "uid",
    "message_id",
    "reused_message_id",
    "sha256",
    "size",
    "download",
    "state",
    "reason",
    "error",
    "subject",
    "sender",
    "ticket",
    "ticket_message",
    "received_at",
    "processed_at",
    "attempts",
)


class MailboxForm(forms.ModelForm):
    # Write-only: the stored password is never rendered back into the page.
    password = forms.CharField(
        label=_("password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current password."),
    )

    class Meta:
        model = Mailbox
        fields = EDITABLE

    def clean_password(self):
        # Runs before the form copies its data onto the instance: this is the stored value.
        return self.cleaned_data["password"] or self.instance.password


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = [
        "name",
        "kind",
        "pool",
        "from_address",
        "active",
        "last_success_at",
        "consecutive_failures",
        "next_fetch_at",
    ]
    list_filter = ["kind", "active", "pool"]
    search_fields = ["name", "from_address", "host", "username"]
    readonly_fields = ["uidvalidity", *FETCH_STATUS]
    fieldsets = [
        (None, {"fields": ["name", "kind", "pool", "active", "fetch_interval"]}),
        (_("Sending"), {"fields": ["from_address", "from_name", "auto_reply", "language"]}),
        (
            _("Server"),
            {"fields": ["host", "port", "security", "username", "password", "folder"]},
        ),
        (_("After import"), {"fields": ["after_import", "move_to_folder"]}),
        (_("Sender checks"), {"fields": ["trusted_authserv_id"]}),
        (_("Local maildir"), {"fields": ["maildir_path"]}),
        (_("Fetch status"), {"fields": ["next_fetch_at", "uidvalidity", *FETCH_STATUS]}),
    ]


@admin.register(RawMessage)
class RawMessageAdmin(admin.ModelAdmin):
    list_display = ["received_at", "mailbox", "state", "reason", "sender", "subject", "ticket"]
    list_filter = ["state", "reason", "reused_message_id", "mailbox"]
    search_fields = ["subject", "sender", "message_id"]
    list_select_related = ["mailbox", "ticket"]
    date_hierarchy = "received_at"
    actions = ["reprocess"]
    fields = RAW_MESSAGE_FIELDS
    readonly_fields = RAW_MESSAGE_FIELDS

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # every fetched message is kept

    @admin.display(description=_("raw message"))
    def download(self, obj):
        if not obj.file:
            return "-"
        url = reverse("admin:mailboxes_rawmessage_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Download .eml"))

    @admin.action(description=_("Reprocess the selected failed messages"), permissions=["change"])
    def reprocess(self, request, queryset):
        failed = list(queryset.failed().values_list("pk", flat=True))
        states = [processing.process_raw_message(pk).state for pk in failed]
        still_failed = states.count(RawMessage.State.FAILED)
        self.message_user(
            request,
            ngettext(
                "Reprocessed %(count)d message; %(failed)d still failed.",
                "Reprocessed %(count)d messages; %(failed)d still failed.",
                len(failed),
            )
            % {"count": len(failed), "failed": still_failed},
            messages.WARNING if still_failed else messages.SUCCESS,
        )

    def get_urls(self):
        download = path(
            "<int:pk>/download/",
            self.admin_site.admin_view(self.download_view),
            name="mailboxes_rawmessage_download",
        )
        return [download, *super().get_urls()]

    def download_view(self, request, pk):
        if not self.has_view_permission(request):
            raise PermissionDenied
        raw = get_object_or_404(RawMessage, pk=pk)
        if not raw.file:
            raise Http404
        # As an attachment with a generated name: mail is attacker input, never rendered.
        return download_response(
            raw.file, filename=f"raw-message-{raw.pk}.eml", content_type="message/rfc822"
        )


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "subject",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
    ]
    list_filter = ["state", "kind"]
    search_fields = ["subject", "message_id"]

    # The outbox is written by the reply workflow and the sender task only.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DocumentedVariables:
    """Lists, beside a mail template's editor, the variables the template may print."""

    template_variables: dict = {}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        field = super().formfield_for_dbfield(db_field, request, **kwargs)  # type: ignore[misc]
        if db_field.name in ("subject", "body") and field is not None:
            field.help_text = format_html(
                "{}{}",
                _("Django template syntax, with only these variables (plain values):"),
                variables_help(self.template_variables),
            )
        return field


@admin.register(EmailTemplate)
class EmailTemplateAdmin(DocumentedVariables, admin.ModelAdmin):
    template_variables = AUTO_REPLY_VARIABLES
    list_display = ["kind", "language", "mailbox", "pool", "subject"]
    list_filter = ["kind", "language"]
    search_fields = ["subject", "body"]


@admin.register(AutoReplyLog)
class AutoReplyLogAdmin(admin.ModelAdmin):
    list_display = ["address", "sent_at"]
    search_fields = ["address"]
    date_hierarchy = "sent_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class NotificationTemplateInline(DocumentedVariables, admin.StackedInline):
    model = NotificationTemplate
    template_variables = NOTIFICATION_VARIABLES
    extra = 0


@admin.register(NotificationRule)
class NotificationRuleAdmin(admin.ModelAdmin):
    list_display = [
        "event",
        "pool",
        "enabled",
        "to_requester",
        "to_assignee",
        "to_manager",
        "to_watchers",
        "to_pool_members",
        "to_supervisors",
    ]
    list_editable = ["enabled"]
    list_filter = ["event", "enabled", "pool"]
    list_select_related = ["pool"]
    inlines = [NotificationTemplateInline]
