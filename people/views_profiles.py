"""Settings: access profiles (``/settings/profiles/``), for administrators only."""

from django.contrib.auth.decorators import login_required
from django.db.models import Count
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from helpdesk.forms import handle_form
from people.decorators import admin_required
from people.features import Feature
from people.forms_profiles import AccessProfileForm, DeleteProfileForm
from people.models import AccessProfile
from people.services_profiles import delete_access_profile, save_access_profile

LABELS = dict(Feature.choices)


@login_required
@admin_required
def profile_list(request):
    profiles = AccessProfile.objects.annotate(holder_count=Count("holders")).prefetch_related(
        "pools"
    )
    rows = [
        {"profile": profile, "features": [LABELS[f] for f in profile.features if f in LABELS]}
        for profile in profiles
    ]
    return render(request, "people/accessprofile_list.html", {"rows": rows})


@login_required
@admin_required
@require_http_methods(["GET", "POST"])
def profile_edit(request, profile_id=None):
    profile = get_object_or_404(AccessProfile, pk=profile_id) if profile_id else AccessProfile()
    form = AccessProfileForm(request.POST if request.method == "POST" else None, instance=profile)

    def page(form, status=200):
        context = {"form": form, "profile": profile}
        return render(request, "people/accessprofile_form.html", context, status=status)

    if request.method != "POST":
        return page(form)
    return handle_form(
        request,
        form,
        lambda data: save_access_profile(
            form.save(commit=False),
            pools=data["pools"],
            features=data["features"],
            holders=data["holders"],
        ),
        success=lambda _result: "profiles:list",
        failure=lambda form: page(form, status=400),
        done=_("Access profile saved."),
    )


@login_required
@admin_required
@require_http_methods(["GET", "POST"])
def profile_delete(request, profile_id):
    profile = get_object_or_404(
        AccessProfile.objects.annotate(holder_count=Count("holders")), pk=profile_id
    )
    form = DeleteProfileForm(request.POST if request.method == "POST" else None, profile=profile)

    def page(form, status=200):
        context = {"form": form, "profile": profile}
        return render(request, "people/accessprofile_delete.html", context, status=status)

    if request.method != "POST":
        return page(form)
    return handle_form(
        request,
        form,
        lambda data: delete_access_profile(profile, move_holders_to=data["move_holders_to"]),
        success=lambda _result: "profiles:list",
        failure=lambda form: page(form, status=400),
        done=_("Access profile deleted."),
    )
