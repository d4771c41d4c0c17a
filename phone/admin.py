from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from helpdesk.tokens import new_token, token_digest
from phone.models import (
    AccessLogin,
    Call,
    CallScript,
    PbxIntegration,
    Plan,
    RoutingPoint,
    ScriptOption,
    ScriptStep,
)
from phone.services import TOKEN_PREFIX, rotate_token


@admin.register(PbxIntegration)
class PbxIntegrationAdmin(admin.ModelAdmin):
    list_display = ["name", "pool", "token_hint", "revoked", "last_used_at", "last_used_from"]
    list_filter = ["revoked", "pool"]
    fields = ["name", "pool", "revoked", "token_hint", "last_used_at", "last_used_from"]
    readonly_fields = ["token_hint", "last_used_at", "last_used_from"]
    actions = ["new_token_for"]

    def save_model(self, request, obj, form, change):
        if not change:
            token = new_token(TOKEN_PREFIX)
            obj.token_digest, obj.token_hint = token_digest(token), token[:8]
            super().save_model(request, obj, form, change)
            self._show_once(request, obj, token)
            return
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Give a new token (the old one stops working)"))
    def new_token_for(self, request, queryset):
        for integration in queryset:
            self._show_once(request, integration, rotate_token(integration))

    def _show_once(self, request, integration, token):
        messages.warning(
            request,
            _("Token of %(name)s, shown only now: %(token)s")
            % {"name": integration.name, "token": token},
        )


class AccessLoginForm(forms.ModelForm):
    # Write-only, as every stored secret: empty keeps what is stored.
    username = forms.CharField(
        label=_("login"),
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Leave empty to keep the current value."),
    )
    password = forms.CharField(
        label=_("password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current value."),
    )

    class Meta:
        model = AccessLogin
        fields = ["system", "username", "password"]

    def clean_username(self):
        return self.cleaned_data["username"] or self.instance.username

    def clean_password(self):
        return self.cleaned_data["password"] or self.instance.password


class RoutingPointInline(admin.TabularInline):
    model = RoutingPoint
    extra = 1


class AccessLoginInline(admin.TabularInline):
    model = AccessLogin
    form = AccessLoginForm
    extra = 1


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = ["__str__", "organization", "product", "active"]
    list_filter = ["active", "product"]
    search_fields = ["name", "organization__name"]
    autocomplete_fields = ["organization"]
    filter_horizontal = ["pools"]
    inlines = [RoutingPointInline, AccessLoginInline]


class ScriptStepInline(admin.StackedInline):
    model = ScriptStep
    extra = 1
    show_change_link = True


@admin.register(CallScript)
class CallScriptAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "product", "topic", "active"]
    list_filter = ["active", "product", "topic"]
    inlines = [ScriptStepInline]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "first_step":
            script_id = request.resolver_match.kwargs.get("object_id")
            kwargs["queryset"] = ScriptStep.objects.filter(script_id=script_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ScriptOptionInline(admin.TabularInline):
    model = ScriptOption
    fk_name = "step"
    extra = 2

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # An answer leads to a step of the same script.
        if db_field.name == "next_step":
            step_id = request.resolver_match.kwargs.get("object_id")
            step = ScriptStep.objects.filter(pk=step_id).first()
            kwargs["queryset"] = ScriptStep.objects.filter(
                script_id=step.script_id if step else None
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(ScriptStep)
class ScriptStepAdmin(admin.ModelAdmin):
    list_display = ["title", "script"]
    list_filter = ["script"]
    inlines = [ScriptOptionInline]


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):
    list_display = [
        "started_at",
        "direction",
        "customer_number",
        "state",
        "pool",
        "contact",
        "ticket",
    ]
    list_filter = ["state", "direction", "pool"]
    search_fields = ["customer_number", "call_id"]
    list_select_related = ["pool", "contact", "ticket"]
    raw_id_fields = ["contact", "ticket", "agent"]
    date_hierarchy = "started_at"
