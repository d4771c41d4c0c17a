from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from helpdesk.forms import handle_form
from people.forms import (
    AbsenceDecisionForm,
    AbsenceForm,
    ProfileForm,
    ThrottledAuthenticationForm,
)
from people.models import Absence
from people.roles import is_agent, sees_all_pools
from people.services import decide_absence, request_absence, withdraw_absence


class LoginView(auth_views.LoginView):
    """Django's login; failed attempts are throttled per account and per address (axes)."""

    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True
    extra_context = {"title": gettext_lazy("Sign in")}


@login_required
def profile(request):
    """The agent's own settings: language, time zone and signature."""
    agent_profile = getattr(request.user, "agent_profile", None)
    if agent_profile is None:
        raise Http404
    form = ProfileForm(request.POST or None, request.FILES or None, instance=agent_profile)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Your profile was saved."))
        response = redirect("people:profile")
        if agent_profile.language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME, agent_profile.language, samesite="Lax"
            )
        return response
    return render(request, "people/agentprofile_form.html", {"form": form})


def _agent_only(request) -> None:
    if not is_agent(request.user):
        raise Http404


def _supervisor_only(request) -> None:
    if not sees_all_pools(request.user):
        raise Http404


@login_required
def absences(request):
    """The agent's own absences, and a form to ask for one."""
    _agent_only(request)
    form = AbsenceForm(request.POST or None, agent=request.user)

    def page(form, status=200):
        mine = (
            Absence.objects.filter(agent=request.user, ends_at__gt=timezone.now())
            .select_related("substitute", "decided_by")
            .order_by("starts_at")
        )
        context = {"form": form, "absences": mine, "now": timezone.now()}
        return render(request, "people/absences.html", context, status=status)

    if request.method != "POST":
        return page(form)

    def ask(data):
        starts_at, ends_at = form.period()
        return request_absence(
            request.user,
            starts_at=starts_at,
            ends_at=ends_at,
            substitute=data["substitute"],
            reason=data["reason"],
        )

    return handle_form(
        request,
        form,
        ask,
        success=lambda _absence: "people:absences",
        failure=lambda form: page(form, status=400),
        done=_("Your absence was sent to the supervisors for approval."),
    )


@login_required
@require_POST
def withdraw(request, absence_id):
    _agent_only(request)
    absence = get_object_or_404(Absence, pk=absence_id, agent=request.user)
    try:
        withdraw_absence(absence, agent=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The absence was withdrawn."))
    return redirect("people:absences")


@login_required
def team(request):
    """Supervisors: who is away today, who will be, and the requests waiting for a decision."""
    _supervisor_only(request)
    now = timezone.now()
    loaded = Absence.objects.select_related("agent", "substitute")
    context = {
        "away_now": loaded.current(now).order_by("ends_at"),
        "upcoming": loaded.approved().filter(starts_at__gt=now).order_by("starts_at")[:50],
        "requests": loaded.filter(state=Absence.State.REQUESTED, ends_at__gt=now).order_by(
            "starts_at"
        ),
    }
    return render(request, "people/team.html", context)


@login_required
def decide(request, absence_id):
    _supervisor_only(request)
    absence = get_object_or_404(
        Absence.objects.select_related("agent", "substitute"), pk=absence_id
    )
    name = absence.agent.get_full_name() or absence.agent.username
    if request.method == "POST" and "approve" not in request.POST:
        # Rejecting reads no form: the dates and substitute only matter to an approval.
        try:
            decide_absence(absence, approve=False, by=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("people:absence-decide", absence_id=absence.pk)
        messages.success(request, _("Rejected the absence of %(name)s.") % {"name": name})
        return redirect("people:team")
    form = AbsenceDecisionForm(request.POST or None, absence=absence)

    def page(form, status=200):
        context = {"form": form, "absence": absence}
        return render(request, "people/absence_decide.html", context, status=status)

    if request.method != "POST":
        return page(form)

    def approve(data):
        starts_at, ends_at = form.period()
        return decide_absence(
            absence,
            approve=True,
            by=request.user,
            starts_at=starts_at,
            ends_at=ends_at,
            substitute=data["substitute"],
        )

    return handle_form(
        request,
        form,
        approve,
        success=lambda _absence: "people:team",
        failure=lambda form: page(form, status=400),
        done=_("Approved the absence of %(name)s.") % {"name": name},
    )
