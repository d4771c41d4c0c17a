from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from people import signals
from people.models import (
    Absence,
    AccessProfile,
    AgentProfile,
    Contact,
    ContactEmail,
    ContactPhone,
    Department,
    Organization,
    Sector,
    SignInLink,
    Skill,
)
from people.services import create_customer_account

User = get_user_model()


@admin.register(AccessProfile)
class AccessProfileAdmin(admin.ModelAdmin):
    """Read-only here: profiles are edited on /settings/profiles/, where holders' pools
    follow them."""

    list_display = ["name", "description"]
    search_fields = ["name"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class AgentProfileInline(admin.StackedInline):
    model = AgentProfile
    can_delete = False
    filter_horizontal = ["skills"]
    # Handed out on /settings/profiles/, so the holder's pools follow the profile.
    readonly_fields = ["access_profile"]


class AbsenceInline(admin.TabularInline):
    model = Absence
    fk_name = "agent"
    extra = 0
    autocomplete_fields = ["substitute"]


admin.site.unregister(User)


@admin.register(User)
class AgentUserAdmin(UserAdmin):
    inlines = [AgentProfileInline, AbsenceInline]


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ["name", "keywords"]
    search_fields = ["name", "keywords"]


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    list_display = ["agent", "starts_at", "ends_at", "substitute", "state", "reason"]
    list_filter = ["state", "starts_at"]
    autocomplete_fields = ["agent", "substitute"]


class ContactEmailInline(admin.TabularInline):
    model = ContactEmail
    extra = 1


class ContactPhoneInline(admin.TabularInline):
    model = ContactPhone
    extra = 1


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ["name", "organization", "sector", "created_at"]
    list_filter = ["sector", "organization"]
    search_fields = ["name", "emails__address", "phones__digits"]
    list_select_related = ["organization", "sector"]
    inlines = [ContactEmailInline, ContactPhoneInline]
    raw_id_fields = ["user"]
    actions = ["give_portal_login"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        contact = self.get_object(request, object_id)
        if contact is not None and request.method == "GET":
            # Other apps' warnings (mailboxes: an address that bounced), shown at the top.
            for _receiver, warnings in signals.contact_warnings.send_robust(
                sender=Contact, contact=contact
            ):
                for warning in warnings if isinstance(warnings, list) else ():
                    messages.warning(request, warning)
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description=_("Give a portal login (signs in by emailed link)"))
    def give_portal_login(self, request, queryset):
        for contact in queryset.filter(user__isnull=True):
            create_customer_account(contact)
        self.message_user(request, _("The selected contacts can now sign in to the portal."))


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "sector", "share_tickets"]
    search_fields = ["name"]


@admin.register(Sector)
class SectorAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "response_time", "active"]
    search_fields = ["name", "email"]


@admin.register(SignInLink)
class SignInLinkAdmin(admin.ModelAdmin):
    """Read-only: who asked for a portal link and whether it was used (the token is never kept)."""

    list_display = ["address", "contact", "created_at", "expires_at", "used_at"]
    search_fields = ["address", "contact__name"]
    list_select_related = ["contact"]
    readonly_fields = ["contact", "address", "created_at", "expires_at", "used_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
