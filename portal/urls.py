from django.contrib.auth import views as auth_views
from django.urls import path

from portal import views as portal

app_name = "portal"

urlpatterns = [
    path("", portal.home, name="home"),
    path("login/", portal.PortalLoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="portal:login"), name="logout"),
    path("login/link/", portal.request_link, name="request_link"),
    path("login/link/<str:token>/", portal.link_sign_in, name="link_sign_in"),
    path("password/", portal.password, name="password"),
    path("new/", portal.new_ticket, name="new"),
    path("tickets/<str:number>/", portal.detail, name="detail"),
    path("tickets/<str:number>/reply/", portal.reply, name="reply"),
    path("tickets/<str:number>/cancel/", portal.cancel, name="cancel"),
    path("tickets/<str:number>/approve/", portal.approve, name="approve"),
    path("tickets/<str:number>/reject/", portal.reject, name="reject"),
    path(
        "tickets/<str:number>/files/<int:attachment_id>/",
        portal.attachment,
        name="attachment",
    ),
]
