"""Ticket workflows. Views, commands and other apps call these, never the ORM directly."""

from tickets.services.access import get_attachment_for, get_ticket_for
from tickets.services.approval import (
    approve_reply,
    pending_replies,
    resubmit_reply,
    return_reply,
    returned_replies_of,
)
from tickets.services.intake import add_customer_message
from tickets.services.lifecycle import (
    add_watcher,
    assign_ticket,
    change_status,
    create_ticket,
    link_tickets,
    merge_tickets,
    remove_watcher,
    set_manager,
    set_tags,
    take_ticket,
    update_ticket,
)
from tickets.services.messages import (
    add_canned_files,
    add_consultation_message,
    add_note,
    add_reply,
    render_canned_response,
)
from tickets.services.presence import mark_presence, others_on_ticket, purge_stale_presence
from tickets.services.pull import pull_next_ticket

__all__ = [
    "add_canned_files",
    "add_consultation_message",
    "add_customer_message",
    "add_note",
    "add_reply",
    "add_watcher",
    "approve_reply",
    "assign_ticket",
    "change_status",
    "create_ticket",
    "get_attachment_for",
    "get_ticket_for",
    "link_tickets",
    "mark_presence",
    "merge_tickets",
    "others_on_ticket",
    "pending_replies",
    "pull_next_ticket",
    "purge_stale_presence",
    "remove_watcher",
    "render_canned_response",
    "resubmit_reply",
    "return_reply",
    "returned_replies_of",
    "set_manager",
    "set_tags",
    "take_ticket",
    "update_ticket",
]
