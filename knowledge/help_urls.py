"""The public help centre, under /help/: no sign-in needed."""

from django.urls import path

from knowledge.views import public

app_name = "help"

urlpatterns = [
    path("", public.home, name="home"),
    path("search/", public.search_view, name="search"),
    path("articles/<int:article_id>/", public.article, name="article"),
    path("articles/<int:article_id>/vote/", public.vote, name="vote"),
    path("images/<int:image_id>/", public.image, name="image"),
]
