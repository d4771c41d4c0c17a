from django.urls import path

from mailboxes import views_preferences

app_name = "notification_preferences"

urlpatterns = [
    path("", views_preferences.preferences, name="edit"),
]
