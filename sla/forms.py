from django import forms
from django.utils.translation import gettext_lazy as _

from people.models import Department
from sla.models import PoolClosing


class ConsultationForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("Department to consult"), queryset=Department.objects.filter(active=True)
    )
    question = forms.CharField(
        label=_("Question"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20_000,
        help_text=_("Sent by mail; the answer comes back to this ticket."),
    )


class PoolClosingForm(forms.ModelForm):
    class Meta:
        model = PoolClosing
        fields = ["calendar", "close_resolved_after_days"]
        widgets = {"close_resolved_after_days": forms.NumberInput(attrs={"min": 0, "max": 60})}

    def clean_close_resolved_after_days(self):
        days = self.cleaned_data["close_resolved_after_days"]
        if days > 60:
            raise forms.ValidationError(_("At most 60 working days."))
        return days
