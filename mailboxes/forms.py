from django import forms
from django.utils.translation import gettext_lazy as _

from mailboxes.models import NotificationPreference

Topic = NotificationPreference.Topic


class NotificationPreferenceForm(forms.ModelForm):
    """An agent's choice per topic, and how often their digest comes."""

    class Meta:
        model = NotificationPreference
        fields = [*Topic.values, "digest_period"]
        widgets = {name: forms.RadioSelect for name in Topic.values}
        help_texts = {
            "digest_period": _(
                "Hourly: once an hour, as the hour turns. Daily: at 08:00 in your time zone "
                "(set on your profile)."
            )
        }
