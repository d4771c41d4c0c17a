"""The agents' knowledge base: reading, writing and publishing, under /knowledge/."""

from django.urls import path

from knowledge.views import agents

app_name = "kb"

urlpatterns = [
    path("", agents.article_list, name="list"),
    path("new/", agents.create, name="create"),
    path("preview/", agents.preview, name="preview"),
    path("<int:article_id>/", agents.article, name="article"),
    path("<int:article_id>/settings/", agents.article_settings, name="settings"),
    path("<int:article_id>/images/", agents.upload_image, name="upload"),
    path("<int:article_id>/<str:language>/edit/", agents.edit, name="edit"),
    path("versions/<int:version_id>/publish/", agents.publish, name="publish"),
    path("versions/<int:version_id>/revisions/", agents.revisions, name="revisions"),
    path("revisions/<int:revision_id>/", agents.revision, name="revision"),
    path("tickets/<str:number>/articles/", agents.composer_search, name="composer"),
    path("tickets/<str:number>/similar/", agents.similar_panel, name="similar"),
]
