from django.contrib.auth.decorators import login_required
from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from api.exceptions import not_found
from api.views import calls, catalog, contact_sessions, conversations, people, tickets
from people.decorators import agent_required

app_name = "api"


# Swagger UI only: Redoc's page fetches web fonts and a logo from other hosts.
def _docs(view):
    # The documentation pages are for signed-in agents; the API itself takes only tokens
    # (paste one into "Authorize"), so a session never authorizes an API call (no CSRF).
    return login_required(agent_required(view))


urlpatterns = [
    path(
        "schema/",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[AllowAny]),
        name="schema",
    ),
    path(
        "docs/",
        _docs(
            SpectacularSwaggerSplitView.as_view(
                url_name="api:schema", authentication_classes=[], permission_classes=[AllowAny]
            )
        ),
        name="docs",
    ),
    path("me/", catalog.TokenInfoView.as_view(), name="me"),
    path("tickets/", tickets.TicketListView.as_view(), name="tickets"),
    path("tickets/<str:number>/", tickets.TicketDetailView.as_view(), name="ticket"),
    path("tickets/<str:number>/replies/", tickets.ReplyView.as_view(), name="reply"),
    path("tickets/<str:number>/notes/", tickets.NoteView.as_view(), name="note"),
    path(
        "tickets/<str:number>/attachments/<int:attachment_id>/",
        tickets.AttachmentView.as_view(),
        name="attachment",
    ),
    path("calls/", calls.CallListView.as_view(), name="calls"),
    path("calls/events/", calls.CallEventView.as_view(), name="call_events"),
    path("calls/<int:pk>/", calls.CallDetailView.as_view(), name="call"),
    path("contacts/", people.ContactListView.as_view(), name="contacts"),
    path("contacts/<int:pk>/", people.ContactDetailView.as_view(), name="contact"),
    path("organizations/", people.OrganizationListView.as_view(), name="organizations"),
    path("organizations/<int:pk>/", people.OrganizationDetailView.as_view(), name="organization"),
    path("pools/", catalog.PoolListView.as_view(), name="pools"),
    path("topics/", catalog.TopicListView.as_view(), name="topics"),
    path("products/", catalog.ProductListView.as_view(), name="products"),
    path("articles/", catalog.ArticleListView.as_view(), name="articles"),
    path("articles/<int:pk>/", catalog.ArticleDetailView.as_view(), name="article"),
    path("survey-responses/", catalog.SurveyResponseListView.as_view(), name="survey_responses"),
    path("reports/figures/", catalog.ReportFiguresView.as_view(), name="report_figures"),
    path("contact-tokens/", conversations.ContactTokenView.as_view(), name="contact_tokens"),
    path(
        "contact-tokens/sessions/",
        contact_sessions.AppSessionListView.as_view(),
        name="contact_sessions",
    ),
    path("contact-tokens/sign-out/", contact_sessions.SignOutView.as_view(), name="sign_out"),
    path("conversations/", conversations.ConversationListView.as_view(), name="conversations"),
    path(
        "conversations/<uuid:key>/messages/",
        conversations.ConversationMessagesView.as_view(),
        name="conversation_messages",
    ),
    path(
        "conversations/<uuid:key>/files/<int:attachment_id>/",
        conversations.ConversationFileView.as_view(),
        name="conversation_file",
    ),
    re_path(r"^.*$", not_found),
]
