from django.urls import path

from tickets.views import actions, approval, canned, detail, queue

app_name = "tickets"

urlpatterns = [
    path("", queue.queue, name="queue"),
    path("next/", queue.next_ticket, name="next"),
    # Before the ticket routes: "canned" is never a ticket number.
    path("canned/", canned.canned_list, name="canned_list"),
    path("canned/new/", canned.canned_edit, name="canned_new"),
    path("canned/<int:canned_id>/edit/", canned.canned_edit, name="canned_edit"),
    path("canned/<int:canned_id>/delete/", canned.canned_delete, name="canned_delete"),
    path("approvals/", approval.approval_queue, name="approvals"),
    path("approvals/<int:message_id>/approve/", approval.approve, name="approve"),
    path("approvals/<int:message_id>/return/", approval.return_reply, name="return_reply"),
    path("<str:number>/", detail.detail, name="detail"),
    path("<str:number>/presence/", detail.presence, name="presence"),
    path("<str:number>/forms/<slug:name>/", detail.sidebar_form, name="sidebar_form"),
    path("<str:number>/reply/", actions.reply, name="reply"),
    path("<str:number>/note/", actions.note, name="note"),
    path("<str:number>/status/", actions.change_status, name="status"),
    path("<str:number>/fields/", actions.update_fields, name="fields"),
    path("<str:number>/assign/", actions.assign, name="assign"),
    path("<str:number>/watchers/", actions.watchers, name="watchers"),
    path("<str:number>/tags/", actions.tags, name="tags"),
    path("<str:number>/merge/", actions.merge, name="merge"),
    path("<str:number>/messages/<int:message_id>/resubmit/", actions.resubmit, name="resubmit"),
    path("<str:number>/canned/<int:canned_id>/", actions.canned_response, name="canned"),
    path("<str:number>/attachments/<int:attachment_id>/", actions.attachment, name="attachment"),
    path(
        "<str:number>/attachments/<int:attachment_id>/inline/",
        actions.attachment_inline,
        name="attachment_inline",
    ),
]
