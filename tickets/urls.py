from django.urls import path

from tickets.views import actions, detail, queue

app_name = "tickets"

urlpatterns = [
    path("", queue.queue, name="queue"),
    path("next/", queue.next_ticket, name="next"),
    path("<str:number>/", detail.detail, name="detail"),
    path("<str:number>/presence/", detail.presence, name="presence"),
    path("<str:number>/reply/", actions.reply, name="reply"),
    path("<str:number>/note/", actions.note, name="note"),
    path("<str:number>/status/", actions.change_status, name="status"),
    path("<str:number>/fields/", actions.update_fields, name="fields"),
    path("<str:number>/assign/", actions.assign, name="assign"),
    path("<str:number>/watchers/", actions.watchers, name="watchers"),
    path("<str:number>/tags/", actions.tags, name="tags"),
    path("<str:number>/merge/", actions.merge, name="merge"),
    path("<str:number>/canned/<int:canned_id>/", actions.canned_response, name="canned"),
    path("<str:number>/attachments/<int:attachment_id>/", actions.attachment, name="attachment"),
]
