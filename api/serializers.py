"""What the API reads and writes. Writes are validated here and made by the services."""

import functools
from typing import cast

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.models import ApiToken
from knowledge.models import ArticleVersion
from people.models import Contact, ContactPhone, Organization, Sector
from surveys.models import Answer, Response
from tickets.models import Attachment, Message, Pool, Product, Ticket, Topic
from tickets.states import HELD_STATUSES, Channel, Priority, Status


class PoolSerializer(serializers.ModelSerializer):
    class Meta:
        model = Pool
        fields = ["id", "name", "description", "active"]


class TopicSerializer(serializers.ModelSerializer):
    class Meta:
        model = Topic
        fields = ["id", "name", "default_priority", "active"]


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = ["id", "name", "active"]


class UserRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return user.get_full_name() or user.get_username()


class ContactRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class NamedRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class TicketSerializer(serializers.ModelSerializer):
    """A ticket as the list shows it."""

    pool = NamedRefSerializer()
    topic = NamedRefSerializer(allow_null=True)
    product = NamedRefSerializer(allow_null=True)
    requester = ContactRefSerializer(allow_null=True)
    assignee = UserRefSerializer(allow_null=True)
    tags = serializers.SerializerMethodField()

    class Meta:
        model = Ticket
        fields = [
            "number", "subject", "status", "priority", "channel", "pool", "topic", "product",
            "requester", "assignee", "tags", "created_at", "updated_at", "due_at",
        ]  # fmt: skip

    def get_tags(self, ticket) -> list[str]:
        return [tag.name for tag in ticket.tags.all()]


def time_text(value, zone):
    """What DRF's DateTimeField writes (ISO 8601 in the current time zone, UTC as "Z"),
    without its per-value field and time-zone lookups: a page has up to 300 of them."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


ROW_FIELDS = (
    "pk", "number", "subject", "status", "priority", "channel", "pool_id", "pool__name",
    "topic_id", "topic__name", "product_id", "product__name", "requester_id",
    "requester__name", "assignee_id", "assignee__username", "assignee__first_name",
    "assignee__last_name", "created_at", "updated_at", "due_at",
)  # fmt: skip


def _ref(row: dict, name: str):
    pk = row[f"{name}_id"]
    return None if pk is None else {"id": pk, "name": row[f"{name}__name"]}


def person(row: dict, name: str):
    """``UserRefSerializer`` of the user ``name`` of a values() row (its id, username,
    first and last name as ``name_id``, ``name__username``...), None when there is none."""
    pk = row[f"{name}_id"]
    if pk is None:
        return None
    username = row[f"{name}__username"]
    full_name = f"{row[f'{name}__first_name']} {row[f'{name}__last_name']}".strip()
    return {"id": pk, "username": username, "name": full_name or username}


def ticket_row(row: dict, tags: list[str], zone) -> dict:
    """``TicketSerializer`` of a values() row of ``ROW_FIELDS``."""
    return {
        "number": row["number"],
        "subject": row["subject"],
        "status": row["status"],
        "priority": row["priority"],
        "channel": row["channel"],
        "pool": {"id": row["pool_id"], "name": row["pool__name"]},
        "topic": _ref(row, "topic"),
        "product": _ref(row, "product"),
        "requester": _ref(row, "requester"),
        "assignee": person(row, "assignee"),
        "tags": tags,
        "created_at": time_text(row["created_at"], zone),
        "updated_at": time_text(row["updated_at"], zone),
        "due_at": time_text(row["due_at"], zone),
    }


@functools.cache
def _row_queries():
    """The list rows' two queries with their columns and joins resolved once per process
    (resolving 21 names through 5 relations is a third of building the query); each page
    only adds its ids to a copy."""
    tags = Ticket.tags.through.objects.order_by("tag__name").values_list("ticket_id", "tag__name")
    return Ticket.objects.order_by().values(*ROW_FIELDS), tags


def ticket_rows(ids: list[int]) -> list[dict]:
    """``TicketSerializer`` of the tickets ``ids``, in that order, built from two plain
    queries (the rows with their names joined, then the tags): a list page holds 25 to 100
    rows, and model instances and DRF's nested serializers cost more than the queries do.
    Tests check the two agree."""
    tags: dict[int, list[str]] = {pk: [] for pk in ids}
    row_query, tag_query = _row_queries()
    for ticket_id, name in tag_query.filter(ticket_id__in=ids):
        tags[ticket_id].append(name)
    rows = {row["pk"]: row for row in row_query.filter(pk__in=ids)}
    zone = timezone.get_current_timezone()
    return [ticket_row(rows[pk], tags[pk], zone) for pk in ids if pk in rows]


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "is_inline", "download_url"]

    def get_download_url(self, attachment) -> str:
        # The ticket's number from the context: no query per file for its ticket.
        number = self.context.get("number") or attachment.ticket.number
        path = reverse("api:attachment", args=[number, attachment.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class MessageSerializer(serializers.ModelSerializer):
    author_user = UserRefSerializer(allow_null=True)
    author_contact = ContactRefSerializer(allow_null=True)
    attachments = AttachmentSerializer(many=True)

    class Meta:
        model = Message
        fields = [
            "id", "kind", "author_user", "author_contact", "body_text", "created_at",
            "approval", "attachments",
        ]  # fmt: skip


class TicketDetailSerializer(TicketSerializer):
    """A ticket with its thread (replies waiting for approval included, as agents see them)."""

    messages = MessageSerializer(many=True)
    requester_email = serializers.SerializerMethodField()

    class Meta(TicketSerializer.Meta):
        fields = [
            *TicketSerializer.Meta.fields,
            "requester_email", "first_response_at", "resolved_at", "closed_at",
            "reopen_count", "messages",
        ]  # fmt: skip

    def get_requester_email(self, ticket) -> str:
        return ticket.requester.primary_email if ticket.requester else ""


class FilesField(serializers.ListField):
    child = serializers.FileField()

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("default", list)
        kwargs.setdefault("help_text", _("Files to attach (multipart/form-data)."))
        super().__init__(**kwargs)


class TicketCreateSerializer(serializers.Serializer):
    """A customer's first message, opening a ticket as mail would."""

    subject = serializers.CharField(max_length=255)
    body = serializers.CharField()
    pool = serializers.PrimaryKeyRelatedField(queryset=Pool.objects.none())
    channel = serializers.ChoiceField(
        choices=[c for c in Channel.choices if c[0] != Channel.AGENT], default=Channel.CHAT
    )
    contact = serializers.PrimaryKeyRelatedField(
        queryset=Contact.objects.all(), required=False, allow_null=True
    )
    contact_email = serializers.EmailField(required=False)
    contact_name = serializers.CharField(required=False, max_length=200, allow_blank=True)
    files = FilesField()

    def __init__(self, *args, pools=None, contacts=None, **kwargs):
        super().__init__(*args, **kwargs)
        if pools is not None:
            pool_field = cast(serializers.PrimaryKeyRelatedField, self.fields["pool"])
            pool_field.queryset = pools  # type: ignore[arg-type]  # a queryset, as declared
        if contacts is not None:
            contact_field = cast(serializers.PrimaryKeyRelatedField, self.fields["contact"])
            contact_field.queryset = contacts  # type: ignore[arg-type]

    def validate(self, attrs):
        if not attrs.get("contact") and not attrs.get("contact_email"):
            raise serializers.ValidationError(
                {"contact": [_("Give a contact id or a contact_email.")]}
            )
        return attrs


class TicketUpdateSerializer(serializers.Serializer):
    """Each field given is changed through the same service as in the ticket page."""

    status = serializers.ChoiceField(choices=Status.choices, required=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    topic = serializers.PrimaryKeyRelatedField(
        queryset=Topic.objects.filter(active=True), required=False, allow_null=True
    )
    product = serializers.PrimaryKeyRelatedField(
        queryset=Product.objects.filter(active=True), required=False, allow_null=True
    )
    pool = serializers.PrimaryKeyRelatedField(queryset=Pool.objects.none(), required=False)
    assignee = serializers.IntegerField(
        required=False, allow_null=True, help_text=_("A member of the ticket's pool, or null.")
    )
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, max_length=50
    )

    def __init__(self, *args, pools=None, **kwargs):
        super().__init__(*args, **kwargs)
        if pools is not None:
            pool_field = cast(serializers.PrimaryKeyRelatedField, self.fields["pool"])
            pool_field.queryset = pools.filter(active=True)  # type: ignore[arg-type]


class ReplySerializer(serializers.Serializer):
    body = serializers.CharField()
    then_status = serializers.ChoiceField(
        choices=[("", _("Keep as is")), *((s.value, s.label) for s in HELD_STATUSES)],
        required=False,
        allow_blank=True,
        default="",
    )
    idempotency_key = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        default="",
        help_text=_("Sent again with the same key, the reply is not made twice."),
    )
    confirmed = serializers.BooleanField(
        required=False, default=False, help_text=_("Send even to an address that bounced.")
    )
    files = FilesField()


class NoteSerializer(serializers.Serializer):
    body = serializers.CharField()
    files = FilesField()


class PhoneSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=40)
    kind = serializers.ChoiceField(choices=ContactPhone.Kind.choices, default="mobile")


class EmailListField(serializers.ListField):
    child = serializers.EmailField()

    def get_attribute(self, contact):
        # The prefetched addresses, primary first.
        return [email.address for email in contact.emails.all()]


class ContactSerializer(serializers.ModelSerializer):
    organization = serializers.PrimaryKeyRelatedField(
        queryset=Organization.objects.all(), required=False, allow_null=True
    )
    emails = EmailListField(required=False, max_length=20)
    phones = PhoneSerializer(many=True, required=False)

    class Meta:
        model = Contact
        fields = [
            "id",
            "name",
            "organization",
            "language",
            "notes",
            "emails",
            "phones",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


class OrganizationSerializer(serializers.ModelSerializer):
    sector = serializers.PrimaryKeyRelatedField(
        queryset=Sector.objects.all(), required=False, allow_null=True
    )

    class Meta:
        model = Organization
        fields = ["id", "name", "sector", "share_tickets"]


class ArticleSerializer(serializers.ModelSerializer):
    """A published version of a public article (one language of it)."""

    id = serializers.IntegerField(source="article_id")
    body = serializers.CharField(source="body_text", help_text="Plain text.")
    html = serializers.CharField(source="body_html", help_text="Sanitised HTML.")
    pool = serializers.IntegerField(source="article.pool_id", allow_null=True)

    class Meta:
        model = ArticleVersion
        fields = ["id", "language", "title", "body", "html", "pool", "updated_at"]


class AnswerSerializer(serializers.ModelSerializer):
    question = serializers.CharField(source="question.text")
    question_id = serializers.IntegerField()
    choices = serializers.SerializerMethodField()

    class Meta:
        model = Answer
        fields = ["question_id", "question", "number", "text", "choices"]

    def get_choices(self, answer) -> list[str]:
        return [item.label for item in answer.choices.all()]


class SurveyResponseSerializer(serializers.ModelSerializer):
    ticket = serializers.CharField(source="ticket.number")
    questionnaire = serializers.CharField(source="questionnaire.name")
    answers = AnswerSerializer(many=True)

    class Meta:
        model = Response
        fields = ["id", "kind", "questionnaire", "ticket", "pool", "agent", "created_at", "answers"]


class FigureSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    unit = serializers.CharField()
    now = serializers.FloatField(allow_null=True)
    before = serializers.FloatField(allow_null=True)


class PeriodSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()


class ReportFiguresSerializer(serializers.Serializer):
    period = PeriodSerializer()
    previous = PeriodSerializer()
    figures = FigureSerializer(many=True)


class TokenInfoSerializer(serializers.ModelSerializer):
    owner = UserRefSerializer()
    pools = serializers.SerializerMethodField()

    class Meta:
        model = ApiToken
        fields = ["name", "hint", "scope", "owner", "pools", "expires_at", "created_at"]

    def get_pools(self, token) -> list[int]:
        return [pool.pk for pool in token.pools.all()]


def list_of(serializer_class, name: str):
    """The schema of a cursor page of ``serializer_class``."""

    class Page(serializers.Serializer):
        next = serializers.URLField(allow_null=True)
        results = serializer_class(many=True)

    Page.__name__ = name
    return Page
