"""The forms of saved custom reports: a name, and the owner's sharing and schedule."""

from typing import cast

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from reports.models import SavedReport


class SaveReportForm(forms.Form):
    name = forms.CharField(label=_("Report name"), max_length=120)


class _People(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.username


class SharingForm(forms.Form):
    shared_with = _People(
        label=_("Share with"),
        queryset=get_user_model().objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Supervisors who may open it; each sees the figures of their own scope."),
    )
    schedule = forms.ChoiceField(
        label=_("Mail it as a PDF"), choices=SavedReport.Schedule.choices, required=False
    )

    def __init__(self, *args, colleagues, **kwargs):
        super().__init__(*args, **kwargs)
        cast(_People, self.fields["shared_with"]).queryset = colleagues
