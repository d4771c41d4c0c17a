"""An agent's own canned responses, and their pools' shared ones for those whose access
profile manages them (``Feature.CANNED_RESPONSES``); everyone's are managed by admins."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from people.decorators import agent_required
from people.features import Feature
from people.profiles import feature_required, has_feature
from people.roles import sees_all_pools
from tickets.forms import CannedResponseForm, SharedCannedResponseForm
from tickets.models import CannedResponse, Pool, PoolMembership
from tickets.services import add_canned_files


@login_required
@agent_required
def canned_list(request):
    my_pools = PoolMembership.objects.filter(user=request.user).values("pool_id")
    shared = CannedResponse.objects.filter(
        Q(owner__isnull=True) & (Q(pool__isnull=True) | Q(pool_id__in=my_pools))
    ).select_related("pool")
    context = {
        "personal": CannedResponse.objects.filter(owner=request.user).prefetch_related("files"),
        "shared": shared.prefetch_related("files"),
        "managed_pools": set(_managed_pools(request.user).values_list("pk", flat=True)),
    }
    return render(request, "tickets/cannedresponse_list.html", context)


def _managed_pools(user):
    """The pools whose shared responses ``user`` may write (none without the feature)."""
    if not has_feature(user, Feature.CANNED_RESPONSES):
        return Pool.objects.none()
    if sees_all_pools(user):
        return Pool.objects.all()
    return Pool.objects.filter(memberships__user=user)


def _editable(user):
    """Own responses, and the shared ones of the pools ``user`` manages."""
    return CannedResponse.objects.filter(
        Q(owner=user) | Q(owner__isnull=True, pool__in=_managed_pools(user))
    )


@login_required
@agent_required
def canned_edit(request, canned_id=None):
    canned = (
        get_object_or_404(_editable(request.user), pk=canned_id)
        if canned_id
        else CannedResponse(owner=request.user)
    )
    data = (request.POST or None, request.FILES or None)
    form: CannedResponseForm
    if canned.pk and canned.owner_id is None:
        form = SharedCannedResponseForm(*data, instance=canned, pools=_managed_pools(request.user))
    else:
        form = CannedResponseForm(*data, instance=canned)
    return _save_canned(request, form, canned)


@login_required
@agent_required
@feature_required(Feature.CANNED_RESPONSES)
def canned_shared_new(request):
    canned = CannedResponse(owner=None)
    pools = _managed_pools(request.user)
    form = SharedCannedResponseForm(
        request.POST or None, request.FILES or None, instance=canned, pools=pools
    )
    return _save_canned(request, form, canned)


def _save_canned(request, form, canned):
    if request.method == "POST" and form.is_valid():
        canned = form.save()
        add_canned_files(canned, files=form.cleaned_data["attachments"])
        messages.success(request, _("Canned response saved."))
        return redirect("tickets:canned_list")
    return render(request, "tickets/cannedresponse_form.html", {"form": form, "canned": canned})


@require_POST
@login_required
@agent_required
def canned_delete(request, canned_id):
    get_object_or_404(_editable(request.user), pk=canned_id).delete()
    messages.success(request, _("Canned response deleted."))
    return redirect("tickets:canned_list")
