"""An agent's own canned responses; shared ones are managed by admins."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from people.decorators import agent_required
from tickets.forms import CannedResponseForm
from tickets.models import CannedResponse, PoolMembership
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
    }
    return render(request, "tickets/cannedresponse_list.html", context)


@login_required
@agent_required
def canned_edit(request, canned_id=None):
    canned = (
        get_object_or_404(CannedResponse, pk=canned_id, owner=request.user)
        if canned_id
        else CannedResponse(owner=request.user)
    )
    form = CannedResponseForm(request.POST or None, request.FILES or None, instance=canned)
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
    get_object_or_404(CannedResponse, pk=canned_id, owner=request.user).delete()
    messages.success(request, _("Canned response deleted."))
    return redirect("tickets:canned_list")
