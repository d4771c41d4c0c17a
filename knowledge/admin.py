from django.contrib import admin

from knowledge.models import Article, ArticleRevision, ArticleVersion, Category


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "name_pt_br", "name_pl", "position"]
    list_editable = ["position"]


class VersionInline(admin.TabularInline):
    model = ArticleVersion
    fields = ("language", "title", "published", "updated_at", "updated_by")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False  # text is written in the product (knowledge.services keeps revisions)


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    """Settings only: the text, with its revisions and search document, is written in the
    product's knowledge base pages."""

    list_display = ["title", "category", "pool", "visibility", "published", "updated_at"]
    list_filter = ["published", "visibility", "category", "pool"]
    search_fields = ["title"]
    list_select_related = ["pool", "category"]
    fields = ["title", "category", "pool", "default_language", "visibility", "published"]
    readonly_fields = ["title", "published"]
    inlines = [VersionInline]

    def has_add_permission(self, request):
        return False


@admin.register(ArticleRevision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ["title", "version", "author", "created_at"]
    list_select_related = ["version", "author"]
    readonly_fields = ["version", "title", "body", "author", "created_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
