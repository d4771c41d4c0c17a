"""A ticket with its thread, as ``TicketDetailSerializer`` documents it, built from plain rows.

The read is the API's most frequent call after the list. Model instances, Django's prefetch
machinery and DRF's nested serializers (a field object per field, per message, per file)
cost several times what its queries do, so it is built here from ``values()`` rows with
plain functions, in a fixed number of queries whatever the thread's length: the ticket with
its names joined (narrowed by the same visibility as every other route), its tags, the
requester's address, then the messages with their authors and files in one query.

The serializer stays the documentation (the OpenAPI schema is made from it) and the
reference: ``tests/api/test_ticket_read.py`` checks both write the same JSON.
"""

import functools

from django.db import connection
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils import timezone

from api.access import ticket_values
from api.serializers import ROW_FIELDS, person, ticket_row, time_text
from people.models import ContactEmail
from tickets.models import Message, Ticket

_DETAIL_FIELDS = (
    *ROW_FIELDS, "first_response_at", "resolved_at", "closed_at", "reopen_count",
)  # fmt: skip

_THREAD_FIELDS = (
    "pk", "kind", "author_user_id", "author_user__username", "author_user__first_name",
    "author_user__last_name", "author_contact_id", "author_contact__name", "body_text",
    "created_at", "approval", "attachments__id", "attachments__filename",
    "attachments__content_type", "attachments__size", "attachments__is_inline",
)  # fmt: skip

# The largest id the URL takes, put where the attachment's id goes, then cut out: the
# download links are reversed once per read, not once per file.
_PLACEHOLDER = 2_147_483_647


@functools.cache
def _queries():
    """The read's querysets with their columns and joins resolved once per process; each
    request adds only its ticket to a copy.

    The ticket's row brings the requester's address (``Contact.primary_email``: the primary
    one, else the first by address) and, on PostgreSQL, its tags (an array in tag order):
    on a busy machine each round trip waits for a core, so the read makes two (the ticket,
    the thread) where four would do. SQLite, in the process, keeps the tags' own query.
    """
    emails = ContactEmail.objects.filter(contact_id=OuterRef("requester_id")).order_by(
        "-is_primary", "address"
    )
    ticket = Ticket.objects.order_by().annotate(
        requester_address=Subquery(emails.values("address")[:1])
    )
    tags = Ticket.tags.through.objects.order_by("tag__name")
    fields = [*_DETAIL_FIELDS, "requester_address"]
    if connection.vendor == "postgresql":
        from django.contrib.postgres.expressions import ArraySubquery

        in_ticket = tags.filter(ticket_id=OuterRef("pk")).values("tag__name")
        ticket = ticket.annotate(tag_names=ArraySubquery(in_ticket))
        fields.append("tag_names")
    # One row per message and file (a message without files: one row, its file columns
    # empty), in the thread's order, then the files' (``Attachment.Meta.ordering``).
    thread = Message.objects.order_by("created_at", "pk", "attachments__id").values(*_THREAD_FIELDS)
    return ticket.values(*fields), tags.values_list("tag__name", flat=True), thread


def ticket_detail(request, number: str) -> dict:
    """What ``TicketDetailSerializer`` writes for the ticket ``number``, if this request may
    reach it (else 404, as ``api.access.ticket_for``)."""
    ticket_query, tag_query, thread_query = _queries()
    row = ticket_values(request, number, base=ticket_query)
    pk = row["pk"]
    tags = row["tag_names"] if "tag_names" in row else list(tag_query.filter(ticket_id=pk))
    zone = timezone.get_current_timezone()
    result = ticket_row(row, tags, zone)
    result["requester_email"] = row["requester_address"] or ""
    for name in ("first_response_at", "resolved_at", "closed_at"):
        result[name] = time_text(row[name], zone)
    result["reopen_count"] = row["reopen_count"]
    result["messages"] = _thread(request, row["number"], thread_query.filter(ticket_id=pk), zone)
    return result


def _thread(request, number: str, rows, zone) -> list[dict]:
    """``MessageSerializer`` of each message, from the rows of the thread query."""
    link = reverse("api:attachment", args=[number, _PLACEHOLDER])
    before, after = link.rsplit(str(_PLACEHOLDER), 1)
    messages: list[dict] = []
    last = None
    for row in rows:
        if row["pk"] != last:
            last = row["pk"]
            messages.append(
                {
                    "id": row["pk"],
                    "kind": row["kind"],
                    "author_user": person(row, "author_user"),
                    "author_contact": (
                        None
                        if row["author_contact_id"] is None
                        else {"id": row["author_contact_id"], "name": row["author_contact__name"]}
                    ),
                    "body_text": row["body_text"],
                    "created_at": time_text(row["created_at"], zone),
                    "approval": row["approval"],
                    "attachments": [],
                }
            )
        file_id = row["attachments__id"]
        if file_id is not None:
            messages[-1]["attachments"].append(
                {
                    "id": file_id,
                    "filename": row["attachments__filename"],
                    "content_type": row["attachments__content_type"],
                    "size": row["attachments__size"],
                    "is_inline": row["attachments__is_inline"],
                    "download_url": request.build_absolute_uri(f"{before}{file_id}{after}"),
                }
            )
    return messages
