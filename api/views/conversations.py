"""Conversations for a company's mobile app: its backend gets a contact token for one of
its customers (service token), the customer's app opens and follows their conversation
with it (``Authorization: Contact <token>``; see ``api.contact_access``)."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from api.access import pools_for
from api.contact_access import (
    MAX_AGE,
    ContactRateThrottle,
    ContactTokenAuthentication,
    IsContact,
    issue_app_session,
)
from api.pagination import ID_ORDERING
from api.serializers import FilesField, list_of
from api.views.common import PAGE_PARAMETERS, page_response, refuse_unknown
from chat import widget
from chat.app_conversations import conversations_of, post_app_message
from chat.contacts import find_or_create_contact
from chat.models import ChatChannel, ChatMessage, Conversation
from tickets.downloads import download_response

# --- serializers ------------------------------------------------------------------------


class ContactTokenRequestSerializer(serializers.Serializer):
    channel = serializers.UUIDField(help_text=_("The widget channel's public key."))
    email = serializers.EmailField()
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    device = serializers.CharField(
        max_length=100,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("What the app runs on, shown to agents in the contact's app sessions."),
    )


class ContactTokenSerializer(serializers.Serializer):
    token = serializers.CharField()
    contact = serializers.IntegerField()
    session = serializers.UUIDField(help_text=_("The app session this token names."))
    expires_in = serializers.IntegerField(help_text=_("Seconds."))


class ConversationSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="public_key")
    ticket = serializers.CharField(source="ticket.number", allow_null=True, default=None)

    class Meta:
        model = Conversation
        fields = ["id", "state", "ticket", "created_at", "updated_at"]


class ChatFileSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    size = serializers.IntegerField()
    content_type = serializers.CharField()


class ChatMessageSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    direction = serializers.ChoiceField(choices=ChatMessage.Direction.choices)
    text = serializers.CharField(allow_blank=True)
    state = serializers.ChoiceField(choices=ChatMessage.State.choices)
    created_at = serializers.DateTimeField()
    author = serializers.CharField(allow_blank=True)
    files = ChatFileSerializer(many=True)


class PostMessageSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=widget.MAX_TEXT, allow_blank=True, default="")
    client_id = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("Sent again with the same id, the message is stored once."),
    )
    files = FilesField()


class PostedSerializer(serializers.Serializer):
    conversation = ConversationSerializer()
    message = ChatMessageSerializer()


ChatMessagePage = list_of(ChatMessageSerializer, "ChatMessagePage")


def _message_data(item) -> dict:
    row = item["row"]
    return {
        "id": row.pk,
        "direction": row.direction,
        "text": row.text,
        "state": row.state,
        "created_at": row.created_at,
        "author": item["author"],
        "files": [
            {"id": f.pk, "name": f.filename, "size": f.size, "content_type": f.content_type}
            for f in item["files"]
        ],
    }


class ContactView(APIView):
    authentication_classes = [ContactTokenAuthentication]
    permission_classes = [IsContact]
    throttle_classes = [ContactRateThrottle]

    def conversation(self, request, key) -> Conversation:
        access = request.auth
        found = conversations_of(access.contact, access.channel).filter(public_key=key).first()
        if found is None:
            raise Http404  # another contact's, or none: the same answer
        return found

    def post_message(self, request) -> ChatMessage:
        form = PostMessageSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        try:
            return post_app_message(
                request.auth.channel,
                request.auth.contact,
                text=data["text"],
                files=data["files"],
                client_id=data["client_id"],
            )
        except widget.RefusedError as refused:
            raise ValidationError({"text": [str(refused)]}) from None

    def posted(self, record: ChatMessage) -> Response:
        conversation = Conversation.objects.select_related("ticket").get(pk=record.conversation_id)
        items = widget.visible_messages(conversation, after=record.pk - 1, limit=1)
        data = {
            "conversation": ConversationSerializer(conversation).data,
            "message": ChatMessageSerializer(_message_data(items[0])).data,
        }
        return Response(data, status=status.HTTP_201_CREATED)


# --- views ---------------------------------------------------------------------------------


class ContactTokenView(APIView):
    @extend_schema(
        request=ContactTokenRequestSerializer,
        responses={201: ContactTokenSerializer},
        operation_id="contact_tokens_create",
    )
    def post(self, request):
        """A contact token for one customer (found or added by email) on one widget channel
        in the service token's pools; hand it to that customer's app only."""
        form = ContactTokenRequestSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        data = form.validated_data
        channel = ChatChannel.objects.filter(
            public_key=data["channel"],
            kind=ChatChannel.Kind.WIDGET,
            active=True,
            pool__in=pools_for(request),
        ).first()
        if channel is None:
            raise Http404
        contact = find_or_create_contact(name=data["name"] or data["email"], email=data["email"])
        session, token = issue_app_session(contact, channel, device=data["device"])
        body = {
            "token": token,
            "contact": contact.pk,
            "session": session.key,
            "expires_in": MAX_AGE,
        }
        return Response(ContactTokenSerializer(body).data, status=status.HTTP_201_CREATED)


class ConversationListView(ContactView):
    @extend_schema(responses={200: ConversationSerializer(many=True)})
    def get(self, request):
        """The contact's conversations on the token's channel."""
        refuse_unknown(request, [])
        access = request.auth
        rows = conversations_of(access.contact, access.channel).select_related("ticket")
        return Response(ConversationSerializer(rows, many=True).data)

    @extend_schema(
        request={
            "application/json": PostMessageSerializer,
            "multipart/form-data": PostMessageSerializer,
        },
        responses={201: PostedSerializer},
    )
    def post(self, request):
        """Open the contact's conversation with a first message (or add to the open one)."""
        return self.posted(self.post_message(request))


class ConversationMessagesView(ContactView):
    @extend_schema(
        parameters=PAGE_PARAMETERS,
        responses={200: ChatMessagePage},
    )
    def get(self, request, key):
        """The conversation's messages, oldest first (cursor pages): the contact's own and
        what agents sent them, never notes or replies still held."""
        refuse_unknown(request, ["cursor", "limit"])
        conversation = self.conversation(request, key)
        rows = widget.visible_rows(conversation)

        def rows_for(ids):
            by_id = {item["row"].pk: item for item in widget.described(rows.filter(pk__in=ids))}
            return [_message_data(by_id[pk]) for pk in ids if pk in by_id]

        return page_response(
            request, rows, rows_for, ChatMessageSerializer, orderings=ID_ORDERING, default="id"
        )

    @extend_schema(
        request={
            "application/json": PostMessageSerializer,
            "multipart/form-data": PostMessageSerializer,
        },
        responses={201: PostedSerializer},
    )
    def post(self, request, key):
        """Add the contact's message to this conversation."""
        self.conversation(request, key)
        return self.posted(self.post_message(request))


class ConversationFileView(ContactView):
    @extend_schema(
        responses={(200, "application/octet-stream"): OpenApiResponse(OpenApiTypes.BINARY)}
    )
    def get(self, request, key, attachment_id):
        """A file of the conversation (one the contact sent, or one sent to them)."""
        item = widget.attachment_of(self.conversation(request, key), attachment_id)
        if item is None:
            raise Http404
        return download_response(item.file, filename=item.filename)
