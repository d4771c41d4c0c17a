"""Admins' webhook pages: the endpoints, one endpoint's delivery log, and their actions."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from people.features import Feature
from people.profiles import feature_required, is_admin
from tickets.views.forms import handle_form
from tickets.views.paging import page_of
from webhooks import outbox, services
from webhooks.forms import DeliveryFilterForm, EndpointForm
from webhooks.models import Delivery, Endpoint

PAGE_SIZE = 50
# The new secret waits here for the one page that shows it (then it is gone from the session).
SESSION_SECRET = "webhooks.secret"  # noqa: S105 (a session key, not a secret)


# Administrators' page; an access profile with the settings sections opens it too.
settings_section = feature_required(Feature.ADMIN_SECTIONS, without_profile=is_admin)


def _keep_secret_for_once(request, endpoint, secret: str) -> None:
    request.session[SESSION_SECRET] = {"endpoint": endpoint.pk, "secret": secret}


@login_required
@settings_section
def endpoint_list(request):
    failed = Count("deliveries", filter=Q(deliveries__state=Delivery.State.FAILED))
    pending = Count(
        "deliveries",
        filter=Q(deliveries__state__in=[Delivery.State.QUEUED, Delivery.State.RETRY]),
    )
    endpoints = Endpoint.objects.annotate(failed=failed, pending=pending).prefetch_related("pools")
    context = {"endpoints": endpoints}
    return render(request, "webhooks/endpoint_list.html", context)


def _save(request, form, endpoint=None):
    def run(data):
        fields = {key: data[key] for key in ("name", "url", "events", "pools", "active")}
        if endpoint is not None:
            return services.update_endpoint(endpoint, **fields)
        created, secret = services.create_endpoint(**fields, actor=request.user)
        _keep_secret_for_once(request, created, secret)
        return created

    def failure(form):
        context = {"form": form, "endpoint": endpoint}
        return render(request, "webhooks/endpoint_form.html", context, status=400)

    return handle_form(
        request, form, run, success=lambda saved: saved.get_absolute_url(), failure=failure,
        done=_("Webhook saved."),
    )  # fmt: skip


@login_required
@settings_section
def endpoint_new(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST":
        return _save(request, form)
    return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": None})


@login_required
@settings_section
def endpoint_edit(request, endpoint_id):
    endpoint = get_object_or_404(Endpoint, pk=endpoint_id)
    initial = {
        "name": endpoint.name,
        "url": endpoint.url,
        "events": endpoint.events,
        "pools": endpoint.pools.all(),
        "active": endpoint.active,
    }
    form = EndpointForm(request.POST or None, initial=initial)
    if request.method == "POST":
        return _save(request, form, endpoint)
    return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": endpoint})


@login_required
@settings_section
def endpoint_detail(request, endpoint_id):
    endpoint = get_object_or_404(Endpoint.objects.prefetch_related("pools"), pk=endpoint_id)
    shown = request.session.get(SESSION_SECRET)
    secret = None
    if shown and shown.get("endpoint") == endpoint.pk:
        secret = request.session.pop(SESSION_SECRET)["secret"]
    filters = DeliveryFilterForm(request.GET or None)
    deliveries = endpoint.deliveries.order_by("-created_at", "-pk")
    if filters.is_valid() and filters.cleaned_data["state"]:
        deliveries = deliveries.filter(state=filters.cleaned_data["state"])
    context = {
        "endpoint": endpoint,
        "secret": secret,
        "filters": filters,
        "why_disabled": services.disable_reason_label(endpoint),
        **page_of(request, deliveries, PAGE_SIZE),
    }
    return render(request, "webhooks/endpoint_detail.html", context)


@require_POST
@login_required
@settings_section
def rotate_secret(request, endpoint_id):
    endpoint = get_object_or_404(Endpoint, pk=endpoint_id)
    _keep_secret_for_once(request, endpoint, services.rotate_secret(endpoint))
    messages.success(
        request, _("New secret made. The old one keeps signing beside it for 24 hours.")
    )
    return redirect(endpoint)


@require_POST
@login_required
@settings_section
def enable(request, endpoint_id):
    endpoint = get_object_or_404(Endpoint, pk=endpoint_id)
    waiting = services.enable_endpoint(endpoint)
    messages.success(
        request, _("Webhook enabled; %(count)s waiting deliveries are sent.") % {"count": waiting}
    )
    return redirect(endpoint)


@require_POST
@login_required
@settings_section
def delete(request, endpoint_id):
    get_object_or_404(Endpoint, pk=endpoint_id).delete()
    messages.success(request, _("Webhook deleted, with its delivery log."))
    return redirect("webhooks:list")


@require_POST
@login_required
@settings_section
def redeliver(request, endpoint_id, delivery_id):
    delivery = get_object_or_404(Delivery, pk=delivery_id, endpoint_id=endpoint_id)
    if delivery.is_pending:
        messages.info(request, _("This delivery is still being tried."))
    else:
        outbox.redeliver(delivery)
        messages.success(request, _("The event is sent again, with the same event id."))
    return redirect(delivery.endpoint)
