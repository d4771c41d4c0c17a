"""Calls in the API: what a call looks like, its filters, and what a client sends to log
one or to report a CTI event (the phone app's own logic, reached with an API token)."""

from typing import cast

import django_filters
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from api.serializers import ContactRefSerializer, NamedRefSerializer, UserRefSerializer
from people.phones import number_prefix
from phone.models import Call
from phone.services import CtiEvent
from tickets.models import Pool

# The query parameters of the list (the date range is sent as started_after / _before).
PARAMETERS = frozenset(
    {"pool", "direction", "state", "number", "started_after", "started_before"}
    | {"ordering", "cursor", "limit"}
)
ORDERINGS = {"-started": ("started_at", True), "started": ("started_at", False)}
DEFAULT_ORDERING = "-started"


class CallFilter(django_filters.FilterSet):
    pool = django_filters.ModelChoiceFilter(queryset=Pool.objects.none())
    direction = django_filters.ChoiceFilter(choices=Call.Direction.choices)
    state = django_filters.MultipleChoiceFilter(choices=Call.State.choices, distinct=False)
    started = django_filters.DateFromToRangeFilter(field_name="started_at")
    number = django_filters.CharFilter(method="by_number", max_length=40)

    class Meta:
        model = Call
        fields: list[str] = []

    def __init__(self, *args, pools, **kwargs):
        """``pools``: the pools this request may reach (the owner's, in the token's)."""
        super().__init__(*args, **kwargs)
        self.filters["pool"].queryset = pools

    def by_number(self, calls, name, value):
        # A whole number or its start, as typed ("11 9876", "+55 11", "0048 22"): the
        # customer's side in E.164 starts with it (the index answers a prefix).
        prefix = number_prefix(value)
        return calls.filter(customer_number__startswith=prefix) if prefix else calls.none()


class CallSerializer(serializers.ModelSerializer):
    pool = NamedRefSerializer()
    agent = UserRefSerializer(allow_null=True)
    contact = ContactRefSerializer(allow_null=True)
    ticket = serializers.SerializerMethodField(
        help_text=_("The number of the ticket the call became, when this token may see it.")
    )

    class Meta:
        model = Call
        fields = [
            "id", "direction", "state", "from_number", "to_number", "customer_number", "pool",
            "agent", "contact", "ticket", "notes", "started_at", "answered_at", "ended_at",
        ]  # fmt: skip

    def get_ticket(self, call) -> str | None:
        # ``tickets``: {id: number} of the page's tickets this request may reach (one query
        # for the page); a ticket moved to a pool out of reach is not named.
        return self.context.get("tickets", {}).get(call.ticket_id)


class _PoolField(serializers.PrimaryKeyRelatedField):
    def __init__(self, **kwargs):
        super().__init__(queryset=Pool.objects.none(), **kwargs)


class _WithPools(serializers.Serializer):
    def __init__(self, *args, pools=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.pools = pools
        if pools is not None:
            field = cast(serializers.PrimaryKeyRelatedField, self.fields["pool"])
            field.queryset = pools  # type: ignore[arg-type]  # a queryset, as declared


class CallCreateSerializer(_WithPools):
    """A call an agent (or a bot) took or made outside the PBX link: logged as ended."""

    pool = _PoolField()
    number = serializers.CharField(
        max_length=40, help_text=_("The customer's number, as written; read as E.164.")
    )
    direction = serializers.ChoiceField(choices=Call.Direction.choices, default="in")
    started_at = serializers.DateTimeField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class CallEventSerializer(_WithPools):
    """One CTI event: a new call rings, it is answered, it is hung up. Sent again, it
    changes nothing; out of order (a hang-up first), it still makes one call."""

    event = serializers.ChoiceField(choices=[("new", "new"), ("answered", "answered"),
                                             ("hangup", "hangup")])  # fmt: skip
    call_id = serializers.CharField(
        max_length=100, help_text=_("The PBX's id of the call: one call per pool and id.")
    )
    pool = _PoolField(
        required=False,
        help_text=_("The call's pool; may be left out by a token limited to one pool."),
    )
    from_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    to_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    direction = serializers.ChoiceField(choices=Call.Direction.choices, default="in")
    agent = serializers.CharField(
        max_length=150,
        required=False,
        allow_blank=True,
        help_text=_("Username or address of the agent who answered, as the PBX knows them."),
    )

    def validate(self, attrs):
        if attrs.get("pool") is None:
            pools = list(self.pools[:2]) if self.pools is not None else []
            if len(pools) != 1:
                raise serializers.ValidationError({"pool": [_("Say which pool the call is in.")]})
            attrs["pool"] = pools[0]
        return attrs

    def cti_event(self) -> CtiEvent:
        data = self.validated_data
        return CtiEvent(
            event=data["event"],
            call_id=data["call_id"].strip(),
            from_number=data.get("from_number", "").strip(),
            to_number=data.get("to_number", "").strip(),
            direction=data["direction"],
            agent=data.get("agent", "").strip(),
        )
