import zoneinfo

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

from people.models import AgentProfile


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


class ProfileForm(forms.ModelForm):
    """What an agent sets for themselves; role, junior flag and skills stay with admins."""

    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        required=False,
        choices=[("", _("The browser's time zone"))]
        + [(name, name) for name in sorted(zoneinfo.available_timezones())],
    )

    class Meta:
        model = AgentProfile
        fields = ["language", "time_zone", "signature_text", "signature_image"]
        widgets = {"signature_text": forms.Textarea(attrs={"rows": 4})}

    def clean_signature_image(self):
        image = self.cleaned_data.get("signature_image")
        if image and getattr(image, "size", 0) > 512 * 1024:
            raise forms.ValidationError(_("The signature image must be under 512 KB."))
        return image
