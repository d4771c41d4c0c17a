"""Tickets: list, read, open, change, reply, note, files. Every change goes through the same
service the ticket page calls (status machine, junior approval, pool membership)."""

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from api import serializers
from api.access import attachment_for, contacts_for, pools_for, ticket_for, tickets_for
from api.detail import ticket_detail
from api.filters import PARAMETERS, ApiTicketFilter
from api.pagination import DEFAULT_ORDERING, ORDERINGS
from api.views.common import PAGE_PARAMETERS, page_response, refuse_unknown
from people.services import find_or_create_contacts
from tickets import services
from tickets.downloads import download_response
from tickets.models import Message
from tickets.querysets import active_agents
from tickets.services.intake import CustomerMail, receive_customer_messages
from tickets.states import Channel, Priority, Status

LIST_PARAMETERS = [
    OpenApiParameter(
        "q", str, description=_("Number, words of the subject, or the requester's address.")
    ),
    OpenApiParameter("status", str, many=True, enum=Status.values, explode=True),
    OpenApiParameter("pool", int),
    OpenApiParameter("topic", int),
    OpenApiParameter("product", int),
    OpenApiParameter("priority", int, enum=Priority.values),
    OpenApiParameter("assignee", int),
    OpenApiParameter("tag", str),
    OpenApiParameter("channel", str, enum=Channel.values),
    OpenApiParameter("created_after", str, description=_("A date, YYYY-MM-DD.")),
    OpenApiParameter("created_before", str, description=_("A date, YYYY-MM-DD.")),
    OpenApiParameter("updated_after", str, description=_("A date, YYYY-MM-DD.")),
    OpenApiParameter("updated_before", str, description=_("A date, YYYY-MM-DD.")),
    OpenApiParameter("ordering", str, enum=list(ORDERINGS)),
    *PAGE_PARAMETERS,
]
PAGING = {"cursor", "limit", "ordering"}
TicketPage = serializers.list_of(serializers.TicketSerializer, "TicketPage")


def _detail(request, number: str, *, code=status.HTTP_200_OK) -> Response:
    """The ticket as ``TicketDetailSerializer`` documents it (``api.detail``)."""
    return Response(ticket_detail(request, number), status=code)


class TicketListView(APIView):
    @extend_schema(parameters=LIST_PARAMETERS, responses=TicketPage, operation_id="tickets_list")
    def get(self, request):
        """The tickets the token may see, filtered as the queue filters, newest first."""
        refuse_unknown(request, PARAMETERS)
        tickets = tickets_for(request)
        if set(request.query_params) - PAGING:
            ticket_filter = ApiTicketFilter(
                request.query_params, user=request.user, pools=pools_for(request),
                queryset=tickets,
            )  # fmt: skip
            if not ticket_filter.is_valid():
                raise ValidationError(ticket_filter.errors)
            tickets = ticket_filter.qs
        return page_response(
            request, tickets, serializers.ticket_rows, None,
            orderings=ORDERINGS, default=DEFAULT_ORDERING,
        )  # fmt: skip

    @extend_schema(
        request={
            "application/json": serializers.TicketCreateSerializer,
            "multipart/form-data": serializers.TicketCreateSerializer,
        },
        responses={201: serializers.TicketDetailSerializer},
        operation_id="tickets_create",
    )
    def post(self, request):
        """Open a ticket for a contact from a channel, as the mail intake does (numbered,
        classified, routed; the same events)."""
        form = serializers.TicketCreateSerializer(
            data=request.data, pools=pools_for(request), contacts=contacts_for(request)
        )
        form.is_valid(raise_exception=True)
        data = form.validated_data
        contact = data.get("contact")
        if contact is None:
            email = data["contact_email"].strip().lower()
            contact = find_or_create_contacts({email: data.get("contact_name", "")})[email]
        mail = CustomerMail(
            contact=contact,
            body_text=data["body"],
            files=data["files"],
            subject=data["subject"],
            pool=data["pool"],
            routing_text=data["body"],
        )
        receive_customer_messages([mail], channel=data["channel"], actor=request.user)
        assert mail.ticket is not None  # noqa: S101 (set by the intake)
        return _detail(request, mail.ticket.number, code=status.HTTP_201_CREATED)


class TicketDetailView(APIView):
    @extend_schema(responses=serializers.TicketDetailSerializer, operation_id="tickets_read")
    def get(self, request, number):
        """One ticket with its messages and files."""
        return _detail(request, number)

    @extend_schema(
        request=serializers.TicketUpdateSerializer,
        responses=serializers.TicketDetailSerializer,
        operation_id="tickets_update",
    )
    def patch(self, request, number):
        """Change status, priority, topic, product, pool, technician or tags. All or nothing:
        a change the rules refuse undoes the others."""
        ticket = ticket_for(request, number)
        form = serializers.TicketUpdateSerializer(data=request.data, pools=pools_for(request))
        form.is_valid(raise_exception=True)
        data, actor = form.validated_data, request.user
        with transaction.atomic():
            fields = {
                name: data[name]
                for name in ("priority", "topic", "product", "pool")
                if name in data
            }
            if fields:
                ticket = services.update_ticket(ticket, actor=actor, **fields)
            if "assignee" in data:
                ticket = services.assign_ticket(ticket, agent=_agent(data["assignee"]), actor=actor)
            if "status" in data:
                ticket = services.change_status(
                    ticket, to=data["status"], actor=actor, reason=data.get("reason", "")
                )
            if "tags" in data:
                services.set_tags(ticket, names=data["tags"], actor=actor)
        return _detail(request, number)


def _agent(user_id):
    if user_id is None:
        return None
    agent = active_agents().filter(pk=user_id).first()
    if agent is None:
        raise ValidationError({"assignee": [_("No active agent has this id.")]})
    return agent


class ReplyView(APIView):
    @extend_schema(
        request={
            "application/json": serializers.ReplySerializer,
            "multipart/form-data": serializers.ReplySerializer,
        },
        responses={201: serializers.MessageSerializer},
        operation_id="tickets_reply",
    )
    def post(self, request, number):
        """Reply to the customer. A junior's reply waits for approval (``approval: pending``),
        with its files and the status it sets, exactly as from the ticket page."""
        ticket = ticket_for(request, number)
        form = serializers.ReplySerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        message = services.add_reply(
            ticket,
            author=request.user,
            body=data["body"],
            files=data["files"],
            then_status=data["then_status"] or None,
            idempotency_key=data["idempotency_key"],
            confirmed=data["confirmed"],
        )
        return _message(request, message)


class NoteView(APIView):
    @extend_schema(
        request={
            "application/json": serializers.NoteSerializer,
            "multipart/form-data": serializers.NoteSerializer,
        },
        responses={201: serializers.MessageSerializer},
        operation_id="tickets_note",
    )
    def post(self, request, number):
        """An internal note: agents see it, the customer never does."""
        ticket = ticket_for(request, number)
        form = serializers.NoteSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        message = services.add_note(
            ticket,
            author=request.user,
            body=form.validated_data["body"],
            files=form.validated_data["files"],
        )
        return _message(request, message)


def _message(request, message: Message) -> Response:
    message = (
        Message.objects.select_related("author_user", "author_contact", "ticket")
        .prefetch_related("attachments")
        .get(pk=message.pk)
    )
    context = {"request": request, "number": message.ticket.number}
    data = serializers.MessageSerializer(message, context=context).data
    return Response(data, status=status.HTTP_201_CREATED)


class AttachmentView(APIView):
    @extend_schema(
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                response=OpenApiTypes.BINARY, description=_("The file, as a download.")
            )
        },
        operation_id="tickets_attachment",
    )
    def get(self, request, number, attachment_id):
        """Download a file of a ticket the token may see: always as an attachment."""
        item = attachment_for(request, number, attachment_id)
        return download_response(item.file, filename=item.filename)
