from django import forms
from django.utils.translation import gettext_lazy as _

from tickets.models import Pool
from webhooks import events
from webhooks.addresses import RefusedAddressError, checked_addresses


class EndpointForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        help_text=_("An https address on the internet; it is called with a signed POST."),
    )
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=events.choices, widget=forms.CheckboxSelectMultiple
    )
    pools = forms.ModelMultipleChoiceField(
        label=_("Pools"),
        queryset=Pool.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Only events of tickets in these pools are sent."),
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def clean_url(self):
        url = self.cleaned_data["url"]
        try:
            checked_addresses(url)
        except RefusedAddressError as refusal:
            raise forms.ValidationError(str(refusal)) from refusal
        return url


def _states():
    from webhooks.models import Delivery

    return Delivery.State.choices


class DeliveryFilterForm(forms.Form):
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All")), *_states()],
        widget=forms.Select(attrs={"class": "form-select form-select-sm"}),
    )
