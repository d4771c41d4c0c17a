from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from people.forms import ThrottledAuthenticationForm


class LoginView(auth_views.LoginView):
    """Django's login, with failed attempts throttled per user name and address."""

    form_class = ThrottledAuthenticationForm
    redirect_authenticated_user = True
    extra_context = {"title": _("Sign in")}

    def form_invalid(self, form):
        if form.throttle_key:
            cache.add(form.throttle_key, 0, timeout=ThrottledAuthenticationForm.WINDOW_SECONDS)
            try:
                cache.incr(form.throttle_key)
            except ValueError:
                cache.set(form.throttle_key, 1, timeout=ThrottledAuthenticationForm.WINDOW_SECONDS)
        return super().form_invalid(form)
