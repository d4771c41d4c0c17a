"""Chat channels in admin: secrets are write-only (never rendered back, kept when left empty)."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from chat.inbound import reprocess_events
from chat.models import ChannelText, ChatChannel, ChatMessage, Conversation, InboundEvent
from chat.outbound import send_again

SECRET_FIELDS = ("access_token", "app_secret", "webhook_secret")


def _secret_field(label):
    return forms.CharField(
        label=label,
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current value."),
    )


class ChatChannelForm(forms.ModelForm):
    access_token = _secret_field(_("access token"))
    app_secret = _secret_field(_("app secret"))
    webhook_secret = _secret_field(_("webhook secret"))

    class Meta:
        model = ChatChannel
        fields = [
            "name",
            "kind",
            "pool",
            "active",
            "calendar",
            "greeting",
            "out_of_hours_text",
            "reopen_closed",
            "reopen_within_days",
            "close_resolved_after",
            "api_base_url",
            "api_version",
            "account_id",
            *SECRET_FIELDS,
            "template_name",
            "template_language",
            "allowed_origins",
        ]

    def _keep(self, name: str) -> str:
        # Runs before the form copies its data onto the instance: this is the stored value.
        return self.cleaned_data[name] or getattr(self.instance, name)

    def clean_access_token(self):
        return self._keep("access_token")

    def clean_app_secret(self):
        return self._keep("app_secret")

    def clean_webhook_secret(self):
        return self._keep("webhook_secret")


class ChannelTextInline(admin.TabularInline):
    model = ChannelText
    extra = 0


@admin.register(ChatChannel)
class ChatChannelAdmin(admin.ModelAdmin):
    form = ChatChannelForm
    inlines = [ChannelTextInline]
    list_display = ["name", "kind", "pool", "active"]
    list_filter = ["kind", "active", "pool"]
    search_fields = ["name", "account_id"]
    readonly_fields = ["webhook_url", "secrets_set"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "pool", "active", "webhook_url"]}),
        (
            _("Customers"),
            {
                "fields": [
                    "calendar",
                    "greeting",
                    "out_of_hours_text",
                    "reopen_closed",
                    "reopen_within_days",
                    "close_resolved_after",
                ]
            },
        ),
        (
            _("Platform"),
            {
                "fields": [
                    "api_base_url",
                    "api_version",
                    "account_id",
                    "secrets_set",
                    *SECRET_FIELDS,
                    "template_name",
                    "template_language",
                ]
            },
        ),
        (_("Website widget"), {"fields": ["allowed_origins"]}),
    ]

    @admin.display(description=_("webhook URL"))
    def webhook_url(self, channel):
        if not channel.pk or channel.kind == ChatChannel.Kind.WIDGET:
            return "—"
        return reverse("chat:webhook", args=[channel.kind, channel.public_key])

    @admin.display(description=_("secrets stored"))
    def secrets_set(self, channel):
        # Says which secrets exist without showing any of them.
        stored = [
            str(getattr(ChatChannel._meta.get_field(name), "verbose_name", name))
            for name in SECRET_FIELDS
            if getattr(channel, name)
        ]
        return ", ".join(stored) or "—"


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["__str__", "channel", "contact", "ticket_link", "state", "last_inbound_at"]
    list_filter = ["channel", "state"]
    search_fields = ["external_name", "external_id", "ticket__number"]
    raw_id_fields = ["contact", "ticket"]
    readonly_fields = ["public_key", "created_at", "updated_at"]

    @admin.display(description=_("ticket"))
    def ticket_link(self, conversation):
        if conversation.ticket is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            conversation.ticket.get_absolute_url(),
            conversation.ticket.number,
        )


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ["pk", "conversation", "direction", "kind", "state", "attempts", "created_at"]
    list_filter = ["direction", "state", "kind", "channel"]
    search_fields = ["platform_message_id", "ticket__number"]
    actions = ["send_again_action"]
    readonly_fields = [field.name for field in ChatMessage._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Send again (failed messages)"))
    def send_again_action(self, request, queryset):
        count = send_again(list(queryset.values_list("pk", flat=True)))
        self.message_user(
            request,
            ngettext("%(count)d message queued again.", "%(count)d messages queued again.", count)
            % {"count": count},
            messages.SUCCESS,
        )


@admin.register(InboundEvent)
class InboundEventAdmin(admin.ModelAdmin):
    list_display = ["pk", "channel", "key", "state", "attempts", "received_at", "processed_at"]
    list_filter = ["state", "channel"]
    search_fields = ["key"]
    actions = ["process_again"]
    readonly_fields = [field.name for field in InboundEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Process again (failed events)"))
    def process_again(self, request, queryset):
        from chat.tasks import process_inbound_events_task
        from helpdesk.celery import enqueue_on_commit

        ids = list(queryset.filter(state=InboundEvent.State.FAILED).values_list("pk", flat=True))
        count = reprocess_events(ids)
        if ids:
            enqueue_on_commit(process_inbound_events_task, ids)
        self.message_user(
            request,
            ngettext("%(count)d event queued again.", "%(count)d events queued again.", count)
            % {"count": count},
            messages.SUCCESS,
        )
