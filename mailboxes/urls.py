from django.urls import path

from mailboxes import views

app_name = "mailboxes"

urlpatterns = [
    path("held/", views.held_list, name="held_list"),
    path("held/<int:raw_message_id>/", views.held_detail, name="held_detail"),
    path("held/<int:raw_message_id>/release/", views.release, name="release"),
    path("held/<int:raw_message_id>/reject/", views.reject, name="reject"),
]
