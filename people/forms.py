import zoneinfo
from datetime import datetime, time, timedelta

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import AuthenticationForm
from django.utils import timezone
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


class AgentChoiceField(forms.ModelChoiceField):
    """Agents by name, never by user name."""

    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.username


def active_agents():
    return (
        get_user_model()
        .objects.filter(is_active=True, agent_profile__isnull=False)
        .order_by("first_name", "last_name", "username")
    )


class AbsenceForm(forms.Form):
    """Whole days in the agent's time zone: from the first day away to the last, inclusive."""

    first_day = forms.DateField(label=_("First day away"), widget=forms.DateInput({"type": "date"}))
    last_day = forms.DateField(label=_("Last day away"), widget=forms.DateInput({"type": "date"}))
    substitute = AgentChoiceField(
        label=_("Substitute"),
        queryset=active_agents(),
        required=False,
        help_text=_("Gets your notifications and may take your tickets while you are away."),
    )
    reason = forms.CharField(label=_("Reason (optional)"), max_length=200, required=False)

    def __init__(self, *args, agent=None, **kwargs):
        super().__init__(*args, **kwargs)
        if agent is not None:
            field = self.fields["substitute"]
            assert isinstance(field, forms.ModelChoiceField)  # noqa: S101
            field.queryset = active_agents().exclude(pk=agent.pk)

    def clean(self):
        data = super().clean() or {}
        first, last = data.get("first_day"), data.get("last_day")
        if first and last and last < first:
            self.add_error("last_day", _("The last day cannot be before the first."))
        return data

    def period(self) -> tuple[datetime, datetime]:
        """Local midnight of the first day to local midnight after the last."""
        zone = timezone.get_current_timezone()
        first, last = self.cleaned_data["first_day"], self.cleaned_data["last_day"]
        starts = datetime.combine(first, time(0), tzinfo=zone)
        ends = datetime.combine(last + timedelta(days=1), time(0), tzinfo=zone)
        return starts, ends


class AbsenceDecisionForm(AbsenceForm):
    """What a supervisor may change before approving."""

    def __init__(self, *args, absence, **kwargs):
        zone = timezone.get_current_timezone()
        initial = {
            "first_day": absence.starts_at.astimezone(zone).date(),
            "last_day": (absence.ends_at.astimezone(zone) - timedelta(microseconds=1)).date(),
            "substitute": absence.substitute_id,
            "reason": absence.reason,
        }
        super().__init__(*args, agent=absence.agent, initial=initial, **kwargs)
        self.fields["reason"].disabled = True
