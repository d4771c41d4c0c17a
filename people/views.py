from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from people.forms import ProfileForm, ThrottledAuthenticationForm


class LoginView(auth_views.LoginView):
    """Django's login, with failed attempts throttled per user name and address."""

    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True
    extra_context = {"title": gettext_lazy("Sign in")}

    def form_invalid(self, form):
        if form.throttle_key:
            cache.add(form.throttle_key, 0, timeout=ThrottledAuthenticationForm.WINDOW_SECONDS)
            try:
                cache.incr(form.throttle_key)
            except ValueError:
                cache.set(form.throttle_key, 1, timeout=ThrottledAuthenticationForm.WINDOW_SECONDS)
        return super().form_invalid(form)


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
