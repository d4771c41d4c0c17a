"""The CTI endpoint a PBX calls, the agents' call list, logging a call, the caller card."""

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from people.decorators import agent_required
from people.features import Feature
from people.profiles import feature_required
from phone import intake
from phone.announce import announce_call
from phone.forms import LogCallForm
from phone.models import Call
from phone.services import (
    PbxTokenError,
    authenticate_pbx,
    log_call,
    parse_cti_event,
    record_cti_event,
)
from tickets.views.forms import handle_form
from tickets.views.paging import page_of

MAX_CTI_BODY = 16 * 1024


def _bearer(request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _space, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.GET.get("token", "").strip()


@csrf_exempt
@require_POST
def cti_event(request):
    """A PBX reports a new call, an answer or a hang-up (JSON or form body)."""
    try:
        integration = authenticate_pbx(_bearer(request), address=request.META.get("REMOTE_ADDR"))
    except PbxTokenError as refused:
        return JsonResponse({"error": str(refused)}, status=refused.status)
    if len(request.body) > MAX_CTI_BODY:
        return JsonResponse({"error": "The request is too large."}, status=413)
    try:
        if request.content_type == "application/json":
            data = json.loads(request.body or b"{}")
            if not isinstance(data, dict):
                raise ValueError
        else:
            data = request.POST
        event = parse_cti_event(data)
    except ValueError:
        return JsonResponse({"error": "The body is not a JSON object."}, status=400)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    call, news = record_cti_event(integration, event)
    announce_call(call, news)
    return JsonResponse({"call": call.pk, "state": call.state, "contact": call.contact_id})


@login_required
@agent_required
@feature_required(Feature.PHONE_DESK)
@require_GET
def call_list(request):
    calls = Call.objects.visible_to(request.user).select_related(
        "contact", "pool", "agent", "ticket"
    )
    return render(request, "phone/call_list.html", page_of(request, calls, 50))


@login_required
@agent_required
@feature_required(Feature.PHONE_DESK)
def call_new(request):
    form = LogCallForm(request.POST or None, agent=request.user)
    if request.method != "POST":
        return render(request, "phone/call_form.html", {"form": form})
    return handle_form(
        request,
        form,
        lambda data: log_call(agent=request.user, **data),
        success=lambda call: "phone:calls",
        failure=lambda form: render(request, "phone/call_form.html", {"form": form}, status=400),
    )


def _call_for(user, call_id: int) -> Call:
    call = (
        Call.objects.visible_to(user)
        .select_related("contact__organization")
        .filter(pk=call_id)
        .first()
    )
    if call is None:
        raise Http404
    return call


@login_required
@agent_required
@feature_required(Feature.PHONE_DESK)
@require_GET
def call_card(request, call_id: int):
    """The caller pop-up: who calls, their open tickets, the way into the wizard."""
    call = _call_for(request.user, call_id)
    pending = list(intake.pending_tickets(request.user, call.contact)[:5]) if call.contact else []
    return render(request, "phone/call_card.html", {"call": call, "pending": pending})


@login_required
@agent_required
@feature_required(Feature.PHONE_DESK)
@require_POST
def intake_start(request):
    """A new wizard, from a call (its number and contact filled in) or from nothing."""
    call_id = request.POST.get("call", "")
    call = _call_for(request.user, int(call_id)) if call_id.isdigit() else None
    intake.start_intake(request.user, call=call)
    return redirect("phone:intake")
