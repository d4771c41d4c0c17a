from django.contrib import admin

from api.models import ApiToken, ServiceAccount


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only here: tokens are made and revoked on the tokens page (the secret is shown
    once there, and only its digest exists)."""

    list_display = ["name", "owner", "scope", "hint", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["scope"]
    search_fields = ["name", "owner__username", "hint"]
    readonly_fields = [
        "name", "owner", "scope", "pools", "hint", "expires_at", "revoked_at", "created_by",
        "created_at", "last_used_at", "last_used_address",
    ]  # fmt: skip
    exclude = ["digest"]

    def has_add_permission(self, request):
        return False


@admin.register(ServiceAccount)
class ServiceAccountAdmin(admin.ModelAdmin):
    list_display = ["__str__", "description", "created_by", "created_at"]
    readonly_fields = ["user", "created_by", "created_at"]

    def has_add_permission(self, request):
        return False
