from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from people.forms import ProfileForm, ThrottledAuthenticationForm


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
