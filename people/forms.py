from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _


class ThrottledAuthenticationForm(AuthenticationForm):
    MAX_FAILURES = 10
    WINDOW_SECONDS = 15 * 60

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": _("Too many failed sign-ins. Wait a few minutes and try again."),
    }

    def clean(self):
        username = (self.data.get("username") or "").strip().lower()
        address = self.request.META.get("REMOTE_ADDR", "") if self.request else ""
        self.throttle_key = f"login-failures:{username}:{address}" if username else None
        if self.throttle_key and (cache.get(self.throttle_key) or 0) >= self.MAX_FAILURES:
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled")
        return super().clean()
