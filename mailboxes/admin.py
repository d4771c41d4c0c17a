from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from mailboxes import processing
from mailboxes.edited_mail import (
    AUTO_REPLY_VARIABLES,
    FIRST_MESSAGE_VARIABLES,
    NOTIFICATION_VARIABLES,
    SLA_MAIL_VARIABLES,
    variables_for,
    variables_help,
)
from mailboxes.ingest import clear_mailbox_attention
from mailboxes.models import (
    AutoReplyLog,
    EmailTemplate,
    Mailbox,
    NotificationPreference,
    NotificationRule,
    OutgoingEmail,
    RawMessage,
    SuppressedAddress,
)
from mailboxes.suppression import lift_suppressions
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
    "accept_bulk_mail",
    "max_message_mb",
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
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "smtp_password",
]
FETCH_STATUS = [
    "last_fetch_at",
    "last_success_at",
    "last_error",
    "consecutive_failures",
    "listening_at",
]

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

    smtp_password = forms.CharField(
        label=_("SMTP password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Leave empty to keep the current one. None, with an OAuth connection: XOAUTH2."
        ),
    )

    def clean_password(self):
        # Runs before the form copies its data onto the instance: this is the stored value.
        return self.cleaned_data["password"] or self.instance.password

    def clean_smtp_password(self):
        return self.cleaned_data["smtp_password"] or self.instance.smtp_password


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = [
        "name",
        "warnings",  # early: the table scrolls sideways on narrow screens
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
    readonly_fields = [
        "uidvalidity",
        *FETCH_STATUS,
        "attention_note",
        "oauth_account",
        "refused_mail",
    ]
    actions = ["clear_attention"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "pool", "active", "fetch_interval"]}),
        (_("Needs attention"), {"fields": ["attention_note", "oauth_account", "refused_mail"]}),
        (_("Sending"), {"fields": ["from_address", "from_name", "auto_reply", "language"]}),
        (
            _("Own SMTP account (empty: the site's)"),
            {
                "fields": [
                    "smtp_host",
                    "smtp_port",
                    "smtp_security",
                    "smtp_username",
                    "smtp_password",
                ]
            },
        ),
        (_("Intake"), {"fields": ["accept_bulk_mail", "max_message_mb"]}),
        (
            _("Server"),
            {"fields": ["host", "port", "security", "username", "password", "folder"]},
        ),
        (_("After import"), {"fields": ["after_import", "move_to_folder"]}),
        (_("Sender checks"), {"fields": ["trusted_authserv_id"]}),
        (_("Local maildir"), {"fields": ["maildir_path"]}),
        (_("Fetch status"), {"fields": ["next_fetch_at", "uidvalidity", *FETCH_STATUS]}),
    ]

    def get_queryset(self, request):
        refused = Count("raw_messages", filter=Q(raw_messages__state=RawMessage.State.REFUSED))
        return super().get_queryset(request).select_related("oauth").annotate(refused_count=refused)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:  # nothing to warn about on the add page
            return [item for item in fieldsets if "attention_note" not in item[1]["fields"]]
        return fieldsets

    def _refused_url(self, obj) -> str:
        url = reverse("admin:mailboxes_rawmessage_changelist")
        return f"{url}?mailbox__id__exact={obj.pk}&state__exact={RawMessage.State.REFUSED}"

    @admin.display(description=_("warnings"))
    def warnings(self, obj):
        parts = []
        if obj.attention:
            parts.append(format_html('<strong class="errornote">{}</strong>', _("needs attention")))
        count = getattr(obj, "refused_count", 0)
        if count:
            label = ngettext("%(count)d refused", "%(count)d refused", count) % {"count": count}
            parts.append(format_html('<a href="{}">{}</a>', self._refused_url(obj), label))
        return format_html_join(" ", "{}", ((part,) for part in parts)) if parts else "-"

    @admin.display(description=_("note"))
    def attention_note(self, obj):
        if not obj.attention:
            return _("Nothing to look at.")
        return format_html('<p class="errornote">⚠ {}</p>', obj.attention)

    @admin.display(description=_("OAuth2 sign-in"))
    def oauth_account(self, obj):
        connection = obj.oauth_connection
        link = reverse("mailbox_settings:detail", args=[obj.pk])
        if connection is None:
            return format_html('<a href="{}">{}</a>', link, _("Not connected (password)."))
        state = _("renewal refused: reconnect") if connection.failed_at else _("connected")
        return format_html(
            '<a href="{}">{} ({}, {})</a>', link, connection.account, connection.provider, state
        )

    @admin.display(description=_("refused mail"))
    def refused_mail(self, obj):
        count = getattr(obj, "refused_count", None)
        if count is None:
            count = obj.raw_messages.filter(state=RawMessage.State.REFUSED).count()
        if not count:
            return _("None.")
        label = ngettext(
            "%(count)d message refused: kept, with the reason.",
            "%(count)d messages refused: kept, with their reasons.",
            count,
        ) % {"count": count}
        return format_html(
            '<a class="refused-mail" href="{}">{}</a>', self._refused_url(obj), label
        )

    @admin.action(description=_("Clear the needs-attention note"), permissions=["change"])
    def clear_attention(self, request, queryset):
        cleared = clear_mailbox_attention(list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("Cleared %(count)d note.", "Cleared %(count)d notes.", cleared)
            % {"count": cleared},
        )


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
        states = [raw.state for raw in processing.process_raw_messages(failed)]
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


class StandingFilter(admin.SimpleListFilter):
    title = _("standing")
    parameter_name = "standing"

    def lookups(self, request, model_admin):
        return [("yes", _("Suppressed")), ("no", _("Lifted"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(lifted_at__isnull=True)
        if self.value() == "no":
            return queryset.filter(lifted_at__isnull=False)
        return queryset


@admin.register(SuppressedAddress)
class SuppressedAddressAdmin(admin.ModelAdmin):
    """Addresses that bounced permanently; lifting one lets automatic mail go there again."""

    list_display = ["address", "dsn_status", "ticket_link", "created_at", "lifted_at", "lifted_by"]
    list_filter = [StandingFilter, "dsn_status"]
    search_fields = ["address"]
    list_select_related = ["ticket", "lifted_by"]
    date_hierarchy = "created_at"
    actions = ["lift"]
    fields = [
        "address",
        "reason",
        "dsn_status",
        "bounce",
        "ticket",
        "created_at",
        "lifted_at",
        "lifted_by",
    ]

    def get_readonly_fields(self, request, obj=None):
        # Added by hand: an address and why. Everything else is the bounce's record.
        return self.fields if obj is not None else ["bounce", "ticket", "created_at"]

    def get_fields(self, request, obj=None):
        return self.fields if obj is not None else ["address", "reason"]

    def has_delete_permission(self, request, obj=None):
        return False  # lifted, never deleted: the history stays

    @admin.display(description=_("ticket"), ordering="ticket__number")
    def ticket_link(self, obj):
        if obj.ticket is None:
            return "-"
        return format_html('<a href="{}">{}</a>', obj.ticket.get_absolute_url(), obj.ticket)

    @admin.action(description=_("Lift the suppression"), permissions=["change"])
    def lift(self, request, queryset):
        lifted = lift_suppressions(queryset.values_list("pk", flat=True), actor=request.user)
        self.message_user(
            request,
            ngettext(
                "Lifted %(count)d suppression: automatic mail goes there again.",
                "Lifted %(count)d suppressions: automatic mail goes there again.",
                lifted,
            )
            % {"count": lifted},
        )


VARIABLE_GROUPS = [
    (_("Automatic reply"), AUTO_REPLY_VARIABLES),
    (_("First message of a ticket opened by email"), FIRST_MESSAGE_VARIABLES),
    (_("Notifications"), NOTIFICATION_VARIABLES),
    (_("SLA mail"), SLA_MAIL_VARIABLES),
]


def variables_text(kind: str | None):
    """The variables a template may print, for its kind; by group while no kind is chosen."""
    intro = _("Django template syntax, with only these variables (plain values):")
    if kind:
        return format_html("{}{}", intro, variables_help(variables_for(kind)))
    groups = format_html_join(
        "", "<br><strong>{}</strong>{}", ((g, variables_help(v)) for g, v in VARIABLE_GROUPS)
    )
    return format_html("{}{}", intro, groups)


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    list_display = ["kind", "language", "pool", "mailbox", "subject", "active"]
    list_filter = ["kind", "language", "pool", "mailbox", "active"]
    list_select_related = ["pool", "mailbox"]
    search_fields = ["subject", "body_text", "body_html"]
    fields = ["kind", "language", "pool", "mailbox", "active", "subject", "body_text", "body_html"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        kind = obj.kind if obj else request.GET.get("kind")
        form.base_fields["body_text"].help_text = variables_text(kind)
        return form


@admin.register(AutoReplyLog)
class AutoReplyLogAdmin(admin.ModelAdmin):
    list_display = ["address", "sent_at"]
    search_fields = ["address"]
    date_hierarchy = "sent_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


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
        "texts",
    ]
    list_editable = ["enabled"]
    list_filter = ["event", "enabled", "pool"]
    list_select_related = ["pool"]
    readonly_fields = ["texts"]

    @admin.display(description=_("texts"))
    def texts(self, obj):  # who gets the mail is the rule; what it says, an email template
        url = f"{reverse('admin:mailboxes_emailtemplate_changelist')}?kind=notification.{obj.event}"
        return format_html('<a href="{}">{}</a>', url, _("Email templates"))


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin):
    """Each agent's own choices (they set them on /me/notifications/)."""

    list_display = ["user", *NotificationPreference.Topic.values, "digest_period"]
    list_select_related = ["user"]
    search_fields = ["user__username", "user__first_name", "user__last_name"]
    raw_id_fields = ["user"]
