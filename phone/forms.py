import re
from typing import cast

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from people.models import Organization, Sector
from phone.models import Call
from tickets.models import Pool, Product, Topic
from tickets.states import Priority

E164 = re.compile(r"^\+\d{3,19}$")


def _choices(form: forms.Form, name: str, choices: list) -> None:
    cast(forms.ChoiceField, form.fields[name]).choices = choices


class OriginForm(forms.Form):
    origin = forms.ChoiceField(
        label=_("Origin"),
        widget=forms.RadioSelect,
        choices=[
            ("phone", _("Telephone")),
            ("walk_in", _("Walk-in")),
            ("other", _("Other")),
        ],
    )


class FiltersForm(forms.Form):
    mode = forms.ChoiceField(
        label=_("Search by"),
        widget=forms.RadioSelect,
        choices=[
            ("period", _("Period (the last days)")),
            ("range", _("Date range")),
            ("phone", _("Phone number")),
        ],
    )
    days = forms.IntegerField(
        label=_("Last days"), min_value=1, max_value=366, initial=7, required=False
    )
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    digits = forms.CharField(
        label=_("Phone digits or start of a number"), max_length=40, required=False
    )
    numbers = forms.MultipleChoiceField(
        label=_("Matching numbers"), required=False, widget=forms.CheckboxSelectMultiple
    )
    quantity = forms.IntegerField(
        label=_("Quantity"),
        min_value=1,
        max_value=500,
        initial=50,
        help_text=_("How many numbers the search returns at most."),
    )

    def __init__(self, *args, listed=(), **kwargs):
        super().__init__(*args, **kwargs)
        _choices(self, "numbers", [(number, number) for number in listed])

    def clean_numbers(self):
        # The list is what the search showed; anything else is not a number we store.
        numbers = self.cleaned_data["numbers"]
        return [number for number in numbers if E164.match(number)]

    def clean(self):
        data = super().clean() or {}
        mode = data.get("mode")
        if mode == "period" and not data.get("days"):
            self.add_error("days", _("Enter the number of days."))
        if mode == "range":
            start, end = data.get("date_from"), data.get("date_to")
            if not start or not end:
                raise ValidationError(_("Enter both dates of the range."))
            if start > end:
                raise ValidationError(_("The range ends before it starts."))
        if mode == "phone" and not data.get("digits", "").strip():
            self.add_error("digits", _("Type the digits or the start of a number."))
        return data


class RecordsForm(forms.Form):
    call = forms.ModelChoiceField(
        label=_("Call"), queryset=Call.objects.none(), widget=forms.RadioSelect, empty_label=None
    )

    def __init__(self, *args, calls=None, **kwargs):
        super().__init__(*args, **kwargs)
        if calls is not None:
            cast(forms.ModelChoiceField, self.fields["call"]).queryset = calls


class ContactForm(forms.Form):
    """Add a contact: a name, where they work, and at least one way to reach or place them."""

    name = forms.CharField(label=_("Name"), max_length=200)
    organization = forms.ModelChoiceField(
        label=_("Organization"), queryset=Organization.objects.all(), required=False
    )
    sector = forms.ModelChoiceField(
        label=_("Contact type (sector)"), queryset=Sector.objects.all(), required=False
    )
    role = forms.CharField(label=_("Role"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=40, required=False)
    mobile = forms.CharField(label=_("Mobile"), max_length=40, required=False)
    fax = forms.CharField(label=_("Fax"), max_length=40, required=False)
    email = forms.EmailField(label=_("Email"), required=False)


class ServiceForm(forms.Form):
    plan = forms.ChoiceField(label=_("Plan"), required=False, widget=forms.RadioSelect)
    script = forms.ChoiceField(label=_("Call script"), required=False)

    def __init__(self, *args, plans=(), scripts=(), **kwargs):
        super().__init__(*args, **kwargs)
        _choices(self, "plan", [("", _("No plan")), *[(str(p.pk), str(p)) for p in plans]])
        _choices(self, "script", [("", _("No script")), *[(str(s.pk), str(s)) for s in scripts]])


class FirstContactForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=255)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 4}))
    topic = forms.ModelChoiceField(
        label=_("Topic"), queryset=Topic.objects.filter(active=True), required=False
    )
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(active=True), required=False
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL
    )
    pool = forms.ModelChoiceField(label=_("Pool"), queryset=Pool.objects.none())

    def __init__(self, *args, agent=None, **kwargs):
        super().__init__(*args, **kwargs)
        pools = Pool.objects.usable_by(agent).filter(active=True)
        cast(forms.ModelChoiceField, self.fields["pool"]).queryset = pools


class LogCallForm(forms.Form):
    direction = forms.ChoiceField(label=_("Direction"), choices=Call.Direction.choices)
    number = forms.CharField(label=_("Number"), max_length=40)
    pool = forms.ModelChoiceField(label=_("Pool"), queryset=Pool.objects.none())
    notes = forms.CharField(
        label=_("Notes"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, agent=None, **kwargs):
        super().__init__(*args, **kwargs)
        pools = Pool.objects.usable_by(agent).filter(active=True)
        cast(forms.ModelChoiceField, self.fields["pool"]).queryset = pools
