"""Every lookup of a ticket by a person goes through here; a denial looks like not found."""

from django.http import Http404
from django.shortcuts import get_object_or_404

from tickets.models import Attachment, Ticket


def get_ticket_for(user, number: str, *, queryset=None) -> Ticket:
    queryset = Ticket.objects.all() if queryset is None else queryset
    return get_object_or_404(queryset.visible_to(user), number=number)


def get_attachment_for(user, number: str, attachment_id: int) -> Attachment:
    ticket = get_ticket_for(user, number)
    try:
        return Attachment.objects.select_related("ticket").get(pk=attachment_id, ticket=ticket)
    except Attachment.DoesNotExist:
        raise Http404 from None
