"""Forms of the customer portal."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from people.forms import ThrottledAuthenticationForm
from tickets.forms import MultipleFileField
from tickets.models import Pool, Product, Topic
from tickets.states import Priority


class CustomerAuthenticationForm(ThrottledAuthenticationForm):
    """The portal's password sign-in: customers only; anyone else reads as a wrong password."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if hasattr(user, "agent_profile") or not hasattr(user, "contact"):
            raise ValidationError(
                self.error_messages["invalid_login"],
                code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class SignInLinkForm(forms.Form):
    email = forms.EmailField(label=_("Your email address"))


class PortalTicketForm(forms.Form):
    pool = forms.ModelChoiceField(
        label=_("Department"), queryset=Pool.objects.filter(active=True), empty_label=None
    )
    topic = forms.ModelChoiceField(
        label=_("Service"),
        queryset=Topic.objects.filter(active=True),
        required=False,
        empty_label=_("I am not sure"),
    )
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.filter(active=True),
        required=False,
        empty_label=_("I am not sure"),
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"), choices=Priority.choices, coerce=int, initial=Priority.NORMAL
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 8}))
    attachments = MultipleFileField(label=_("Files"))


class PortalReplyForm(forms.Form):
    body = forms.CharField(label=_("Your message"), widget=forms.Textarea(attrs={"rows": 5}))
    attachments = MultipleFileField(label=_("Files"))


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Why? (optional)"), required=False, max_length=1000)


class ConfirmForm(forms.Form):
    """A button and its CSRF token: nothing else to fill in."""


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("What is still not right?"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )
