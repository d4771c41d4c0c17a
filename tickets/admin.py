from django.contrib import admin

from tickets.models import (
    ActivityLog,
    Attachment,
    CannedResponse,
    CannedResponseFile,
    Pool,
    PoolMembership,
    Product,
    Tag,
    Ticket,
    Topic,
)


class PoolMembershipInline(admin.TabularInline):
    model = PoolMembership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Pool)
class PoolAdmin(admin.ModelAdmin):
    list_display = ["name", "active"]
    search_fields = ["name"]
    inlines = [PoolMembershipInline]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ["name", "default_priority", "active"]
    search_fields = ["name", "keywords"]


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
