from datetime import datetime, time

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from api.models import ApiToken
from api.services import is_admin, token_owners_for
from tickets.models import Pool


class OwnerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What uses it, e.g. “Chatbot”.")
    )
    owner = OwnerChoiceField(
        label=_("Acts as"),
        queryset=Pool.objects.none(),
        help_text=_("What the token does is logged under this name."),
    )
    scope = forms.ChoiceField(
        label=_("Access"),
        choices=ApiToken.Scope.choices,
        initial=ApiToken.Scope.READ,
        widget=forms.RadioSelect,
    )
    pools = forms.ModelMultipleChoiceField(
        label=_("Pools"),
        queryset=Pool.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None ticked: every pool the owner works in. Never more than theirs."),
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Empty: until revoked."),
    )

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        owners = token_owners_for(actor)
        owner_field = self.fields["owner"]
        assert isinstance(owner_field, forms.ModelChoiceField)  # noqa: S101 (declared above)
        owner_field.queryset = owners
        owner_field.initial = actor.pk
        if not is_admin(actor):
            owner_field.widget = forms.HiddenInput()
        pools_field = self.fields["pools"]
        assert isinstance(pools_field, forms.ModelMultipleChoiceField)  # noqa: S101
        pools_field.queryset = Pool.objects.usable_by(actor)

    def clean_expires_on(self):
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        if day <= timezone.localdate():
            raise forms.ValidationError(_("Choose a day after today."))
        return day

    def expires_at(self):
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


class ServiceAccountForm(forms.Form):
    account_name = forms.CharField(
        label=_("Name"), max_length=150, help_text=_("Shown in the activity log, e.g. “Chatbot”.")
    )
    description = forms.CharField(label=_("Description"), max_length=255, required=False)
