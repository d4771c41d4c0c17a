import zoneinfo

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from people.models import AgentProfile


class ThrottledAuthenticationForm(AuthenticationForm):
    """Django's sign-in form; django-axes counts the failures (people.login)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "throttled": _("Too many failed sign-ins. Wait a few minutes and try again."),
    }

    def get_invalid_login_error(self):
        # Axes refused to try the password (or this failure reached the limit): say so,
        # the same way for every account name, known or not.
        if getattr(self.request, "axes_locked_out", False):
            return forms.ValidationError(self.error_messages["throttled"], code="throttled")
        return super().get_invalid_login_error()


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
