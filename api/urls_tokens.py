from django.urls import path

from api.views import token_pages

app_name = "api_tokens"

urlpatterns = [
    path("", token_pages.token_list, name="list"),
    path("<int:token_id>/revoke/", token_pages.token_revoke, name="revoke"),
    path("service-accounts/", token_pages.service_account_create, name="service_account"),
]
