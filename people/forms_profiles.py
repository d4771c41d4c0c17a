"""The access profile settings forms."""

from typing import cast

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from people.features import FEATURE_HELP, Feature
from people.models import AccessProfile


def agents():
    return (
        get_user_model()
        .objects.filter(is_active=True, agent_profile__isnull=False)
        .select_related("agent_profile__access_profile")
        .order_by("first_name", "last_name", "username")
    )


class AgentChoices(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.get_full_name() or obj.get_username()


class AccessProfileForm(forms.ModelForm):
    features = forms.MultipleChoiceField(
        label=_("Features"),
        choices=Feature.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    holders = AgentChoices(
        label=_("Agents with this profile"),
        queryset=agents(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "An agent holds one profile: ticking someone who holds another moves them here. "
            "Unticked agents go back to their role's defaults."
        ),
    )

    class Meta:
        model = AccessProfile
        fields = ["name", "description", "pools"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "pools": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.holders_field.queryset = agents()
        if self.instance.pk:
            self.initial.setdefault("features", list(self.instance.features))
            self.initial.setdefault(
                "holders", [holder.user_id for holder in self.instance.holders.all()]
            )

    @property
    def holders_field(self) -> AgentChoices:
        return self.fields["holders"]  # type: ignore[return-value]

    def feature_rows(self):
        """Each feature's checkbox with its help text, for the template."""
        chosen = set(self["features"].value() or [])
        return [
            {"value": value, "label": label, "help": FEATURE_HELP[Feature(value)]}
            | {"checked": value in chosen}
            for value, label in Feature.choices
        ]

    def holder_rows(self):
        chosen = {str(pk) for pk in self["holders"].value() or []}
        return [
            {
                "user": user,
                "checked": str(user.pk) in chosen,
                "other": (
                    user.agent_profile.access_profile
                    if user.agent_profile.access_profile_id not in (None, self.instance.pk)
                    else None
                ),
            }
            for user in agents()
        ]


class DeleteProfileForm(forms.Form):
    move_holders_to = forms.ModelChoiceField(
        label=_("Move its agents to"),
        queryset=AccessProfile.objects.none(),
        required=False,
        empty_label=_("(choose a profile)"),
    )

    def __init__(self, *args, profile: AccessProfile, **kwargs):
        super().__init__(*args, **kwargs)
        field = cast(forms.ModelChoiceField, self.fields["move_holders_to"])
        field.queryset = AccessProfile.objects.exclude(pk=profile.pk)
