"""The portal's help pages (customers), under /portal/help/."""

from django.urls import path

from knowledge.views import public

app_name = "knowledge"

urlpatterns = [
    path("", public.portal_search, name="search"),
    path("suggest/", public.suggest, name="suggest"),
    path("<int:article_id>/", public.portal_article, name="article"),
]
