from django.contrib import admin

from knowledge.models import Article


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "pool", "published", "updated_at"]
    list_filter = ["published", "pool"]
    search_fields = ["title", "body"]
    list_select_related = ["pool"]
