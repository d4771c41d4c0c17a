from django.urls import path

from mailboxes import settings_views as views

app_name = "mailbox_settings"

urlpatterns = [
    path("", views.mailbox_list, name="list"),
    # One callback for every mailbox and provider: the URL registered with the provider.
    path("oauth/callback/", views.oauth_callback, name="oauth_callback"),
    path("<int:mailbox_id>/", views.mailbox_detail, name="detail"),
    path("<int:mailbox_id>/connect/<str:provider_key>/", views.connect, name="connect"),
    path("<int:mailbox_id>/disconnect/", views.disconnect, name="disconnect"),
    path("<int:mailbox_id>/clear/", views.clear_attention, name="clear_attention"),
]
