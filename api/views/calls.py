"""Calls: list, read, log one by hand, and the CTI events of a phone system that uses an
API token instead of a PBX token. The phone app's services do the work, as for its pages
and its own CTI endpoint; a token reaches the calls of its pools only."""

from django.http import Http404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from api import calls, serializers
from api.access import pools_for, tickets_for
from api.permissions import TokenScope, feature_permission
from api.views.common import PAGE_PARAMETERS, in_order, page_response, refuse_unknown
from people.features import Feature
from phone.announce import announce_call
from phone.models import Call
from phone.services import log_call, record_cti_event

LIST_PARAMETERS = [
    OpenApiParameter("pool", int),
    OpenApiParameter("direction", str, enum=Call.Direction.values),
    OpenApiParameter("state", str, many=True, enum=Call.State.values, explode=True),
    OpenApiParameter("number", str, description=_("The customer's number or its start, as typed.")),
    OpenApiParameter("started_after", str, description=_("A date, YYYY-MM-DD.")),
    OpenApiParameter("started_before", str, description=_("A date, YYYY-MM-DD.")),
    OpenApiParameter("ordering", str, enum=list(calls.ORDERINGS)),
    *PAGE_PARAMETERS,
]
CallPage = serializers.list_of(calls.CallSerializer, "CallPage")
# The phone desk is a feature of the owner's access profile, in the API as on the pages.
PHONE_DESK: list[type[BasePermission]] = [TokenScope, feature_permission(Feature.PHONE_DESK)]


def calls_for(request):
    """The calls of the pools this request may reach."""
    return Call.objects.filter(pool__in=pools_for(request))


def _loaded(queryset):
    return queryset.select_related("pool", "agent", "contact")


def _context(request, rows) -> dict:
    """The numbers of the rows' tickets this request may see (one query, none without any)."""
    ids = {call.ticket_id for call in rows if call.ticket_id}
    visible = tickets_for(request).filter(pk__in=ids).values_list("pk", "number") if ids else []
    return {"request": request, "tickets": dict(visible)}


def _call_response(request, call: Call, *, code=status.HTTP_200_OK) -> Response:
    call = _loaded(Call.objects).get(pk=call.pk)
    data = calls.CallSerializer(call, context=_context(request, [call])).data
    return Response(data, status=code)


class CallListView(APIView):
    permission_classes = PHONE_DESK

    @extend_schema(parameters=LIST_PARAMETERS, responses=CallPage, operation_id="calls_list")
    def get(self, request):
        """The calls of the token's pools, newest first."""
        refuse_unknown(request, calls.PARAMETERS)
        found = calls_for(request)
        if set(request.query_params) - {"cursor", "limit", "ordering"}:
            call_filter = calls.CallFilter(
                request.query_params, queryset=found, pools=pools_for(request)
            )
            if not call_filter.is_valid():
                raise ValidationError(call_filter.errors)
            found = call_filter.qs

        def rows_for(ids):
            rows = in_order(_loaded(Call.objects), ids)
            context = _context(request, rows)
            return calls.CallSerializer(rows, many=True, context=context).data

        return page_response(
            request, found, rows_for, None,
            orderings=calls.ORDERINGS, default=calls.DEFAULT_ORDERING,
        )  # fmt: skip

    @extend_schema(
        request=calls.CallCreateSerializer,
        responses={201: calls.CallSerializer},
        operation_id="calls_create",
    )
    def post(self, request):
        """Log a call taken or made outside the PBX link (as an agent does on the phone
        page); the token's owner is its agent. An incoming one is a ``call.received``."""
        form = calls.CallCreateSerializer(data=request.data, pools=pools_for(request))
        form.is_valid(raise_exception=True)
        call = log_call(agent=request.user, **form.validated_data)
        return _call_response(request, call, code=status.HTTP_201_CREATED)


class CallDetailView(APIView):
    permission_classes = PHONE_DESK

    @extend_schema(responses=calls.CallSerializer, operation_id="calls_read")
    def get(self, request, pk):
        """One call of the token's pools."""
        refuse_unknown(request, ())
        if abs(pk) > 2**62:
            raise Http404
        call = _loaded(calls_for(request)).filter(pk=pk).first()
        if call is None:
            raise Http404
        return Response(calls.CallSerializer(call, context=_context(request, [call])).data)


class CallEventView(APIView):
    permission_classes = PHONE_DESK

    @extend_schema(
        request=calls.CallEventSerializer,
        responses={200: calls.CallSerializer},
        operation_id="calls_event",
    )
    def post(self, request):
        """A phone system reports that a call rings (``new``), was ``answered`` or was hung
        up (``hangup``), as a PBX does at ``/phone/cti/``: the agents of the pool see it
        pop up, the caller is matched by number, a new incoming call is a ``call.received``.
        Needs a token that may write, of the call's pool."""
        form = calls.CallEventSerializer(data=request.data, pools=pools_for(request))
        form.is_valid(raise_exception=True)
        call, news = record_cti_event(None, form.cti_event(), pool=form.validated_data["pool"])
        announce_call(call, news)
        return _call_response(request, call)
