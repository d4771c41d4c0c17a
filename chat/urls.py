from django.urls import path

from chat import views, views_agent, views_widget

app_name = "chat"

urlpatterns = [
    path("hooks/<slug:kind>/<uuid:key>/", views.webhook, name="webhook"),
    path("tickets/<str:number>/thread/", views.ticket_thread, name="thread"),
    path("tickets/<str:number>/typing/", views_agent.typing, name="agent_typing"),
]

# The website widget (chat/views_widget.py): called from other sites, origin-checked.
W = "widget/<uuid:key>/"
urlpatterns += [
    path(f"{W}config/", views_widget.config, name="widget_config"),
    path(f"{W}search/", views_widget.search, name="widget_search"),
    path(f"{W}messages/", views_widget.messages, name="widget_messages"),
    path(f"{W}seen/", views_widget.seen, name="widget_seen"),
    path(f"{W}typing/", views_widget.typing, name="widget_typing"),
    path(f"{W}transcript/", views_widget.transcript, name="widget_transcript"),
    path(f"{W}files/<int:attachment_id>/", views_widget.file, name="widget_file"),
    # Ends in live/stream/: the ASGI handler serves it without a thread (live.asgi).
    path(f"{W}live/stream/", views_widget.stream, name="widget_stream"),
]
