from django.urls import path

from api.views import session_pages

app_name = "app_sessions"

urlpatterns = [
    path("<int:contact_id>/", session_pages.session_list, name="list"),
    path("<int:contact_id>/<uuid:key>/revoke/", session_pages.session_revoke, name="revoke"),
    path("<int:contact_id>/revoke-all/", session_pages.session_revoke_all, name="revoke_all"),
]
