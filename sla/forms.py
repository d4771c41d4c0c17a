from django import forms
from django.utils.translation import gettext_lazy as _

from people.models import Department


class ConsultationForm(forms.Form):
    department = forms.ModelChoiceField(
        label=_("Department"), queryset=Department.objects.filter(active=True)
    )
    question = forms.CharField(
        label=_("Question"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=20_000,
        help_text=_("Sent by mail; the answer comes back to this ticket."),
    )
