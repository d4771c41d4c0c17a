from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from people.views import LoginView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="tickets:queue", permanent=False)),
    path("accounts/login/", LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("tickets/", include("tickets.urls")),
    path("me/tokens/", include("api.urls_tokens")),
    path("contacts/app-sessions/", include("api.urls_sessions")),
    path("me/notifications/", include("mailboxes.urls_preferences")),
    path("me/", include("people.urls")),
    path("portal/help/", include("knowledge.urls")),
    path("help/", include("knowledge.help_urls")),
    path("knowledge/", include("knowledge.agent_urls")),
    path("portal/", include("portal.urls")),
    path("surveys/", include("surveys.urls")),
    path("sla/", include("sla.urls")),
    path("mail/", include("mailboxes.urls")),
    path("reports/", include("reports.urls")),
    path("phone/", include("phone.urls")),
    path("settings/webhooks/", include("webhooks.urls")),
    path("settings/mailboxes/", include("mailboxes.settings_urls")),
    path("settings/profiles/", include("people.urls_profiles")),
    path("chat/", include("chat.urls")),
    path("live/", include("live.urls")),
    path("api/v1/", include("api.urls")),
    path("admin/", admin.site.urls),
]
