"""Forms of the customer portal."""

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse
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


class PoolSelect(forms.Select):
    """Marks the departments that take the customer's priority (static/js/app.js reads it)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        pool = getattr(value, "instance", None)
        if pool is not None and pool.customers_set_priority:
            option["attrs"]["data-takes-priority"] = "1"
        return option


class CustomerPoolField(forms.ModelChoiceField):
    """Pools under the name customers know them by."""

    widget = PoolSelect

    def label_from_instance(self, obj):
        return obj.customer_facing_name


class TopicSelect(forms.Select):
    """Each service says which departments offer it (static/js/app.js filters the list)."""

    pools_of: dict[int, list[int]] = {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        pools = self.pools_of.get(getattr(value, "value", value))
        if pools:
            option["attrs"]["data-pools"] = " ".join(str(pk) for pk in pools)
        return option


class PortalTicketForm(forms.Form):
    pool = CustomerPoolField(
        label=_("Department"), queryset=Pool.objects.filter(active=True), empty_label=None
    )
    topic = forms.ModelChoiceField(
        label=_("Service"),
        queryset=Topic.objects.filter(active=True),
        required=False,
        empty_label=_("I am not sure"),
        widget=TopicSelect,
    )
    product = forms.ModelChoiceField(
        label=_("Product"),
        queryset=Product.objects.filter(active=True),
        required=False,
        empty_label=_("I am not sure"),
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=Priority.choices,
        coerce=int,
        initial=Priority.NORMAL,
        required=False,
        help_text=_("Only some departments take your choice of priority."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Description"), widget=forms.Textarea(attrs={"rows": 8}))
    attachments = MultipleFileField(label=_("Files"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        pools_of: dict[int, list[int]] = {}
        for topic_id, pool_id in Topic.pools.through.objects.values_list("topic_id", "pool_id"):
            pools_of.setdefault(topic_id, []).append(pool_id)
        self.pools_of = pools_of
        self.fields["topic"].widget.pools_of = pools_of  # type: ignore[attr-defined]
        # As the customer types the subject, matching help articles appear beside the form.
        self.fields["subject"].widget.attrs.update(
            {
                "hx-get": reverse("knowledge:suggest"),
                "hx-trigger": "input changed delay:500ms",
                "hx-include": "this",
                "hx-target": "#article-suggestions",
                "hx-swap": "innerHTML",
                "autocomplete": "off",
            }
        )

    def clean(self):
        data = super().clean() or {}
        topic, chosen_pool = data.get("topic"), data.get("pool")
        offered = self.pools_of.get(topic.pk) if topic is not None else None
        if offered and chosen_pool is not None and chosen_pool.pk not in offered:
            self.add_error("topic", _("This service is not offered by the chosen department."))
        pool = data.get("pool")
        # A pool that does not take the customer's priority gets the normal one, whatever
        # was posted: the field is only hidden in the browser.
        if pool is None or not pool.customers_set_priority or data.get("priority") is None:
            data["priority"] = Priority.NORMAL
        return data


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
