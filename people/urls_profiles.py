from django.urls import path

from people import views_profiles

app_name = "profiles"

urlpatterns = [
    path("", views_profiles.profile_list, name="list"),
    path("new/", views_profiles.profile_edit, name="new"),
    path("<int:profile_id>/", views_profiles.profile_edit, name="edit"),
    path("<int:profile_id>/delete/", views_profiles.profile_delete, name="delete"),
]
