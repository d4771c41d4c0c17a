import secrets
from typing import cast

from django import forms
from django.core.validators import URLValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from tickets.models import CannedResponse, Pool, Product, Topic
from tickets.querysets import active_agents, agents_who_see_pool
from tickets.states import Priority, Status


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern for multiple uploads)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


def _set_queryset(form: forms.Form, name: str, queryset) -> None:
    cast(forms.ModelChoiceField, form.fields[name]).queryset = queryset


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(24)


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Reply"), widget=forms.Textarea(attrs={"rows": 6}))
    attachments = MultipleFileField(label=_("Attach files"))
    # Scoped in __init__: nothing is accepted until the form knows who replies where.
    canned_response = forms.ModelChoiceField(
        queryset=CannedResponse.objects.none(), required=False, widget=forms.HiddenInput
    )
    then_status = forms.ChoiceField(
        label=_("Then set status"),
        required=False,
        choices=[
            ("", _("Keep as is")),
            (Status.WAITING_CUSTOMER, Status.WAITING_CUSTOMER.label),
            (Status.RESOLVED, Status.RESOLVED.label),
            (Status.CLOSED, Status.CLOSED.label),
        ],
    )
    # Made anew each time the page renders; sent back, it makes a resubmission harmless.
    idempotency_key = forms.CharField(
        required=False, max_length=64, widget=forms.HiddenInput, initial=new_idempotency_key
    )
    # Shown only when a panel asks for it (tickets.panels.Panel.confirm_reply).
    confirmed = forms.BooleanField(label=_("Send anyway"), required=False)

    def __init__(self, *args, user=None, ticket=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None and ticket is not None:
            usable = CannedResponse.objects.usable_by(user, ticket.pool_id)
            _set_queryset(self, "canned_response", usable)


class CannedResponseForm(forms.ModelForm):
    attachments = MultipleFileField(label=_("Files to attach"))

    class Meta:
        model = CannedResponse
        fields = ["title", "body", "urls"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 8}),
            "urls": forms.Textarea(attrs={"rows": 3}),
        }

    def clean_urls(self):
        validate = URLValidator(schemes=["http", "https"])
        lines = [line.strip() for line in self.cleaned_data["urls"].splitlines() if line.strip()]
        for line in lines:
            validate(line)
        return "\n".join(lines)


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Internal note"), widget=forms.Textarea(attrs={"rows": 3}))
    attachments = MultipleFileField(label=_("Attach files"))


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=Status.choices)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=500)


class TicketFieldsForm(forms.Form):
    priority = forms.TypedChoiceField(label=_("Priority"), choices=Priority.choices, coerce=int)
    pool = forms.ModelChoiceField(label=_("Pool"), queryset=Pool.objects.filter(active=True))
    topic = forms.ModelChoiceField(
        label=_("Topic"), queryset=Topic.objects.filter(active=True), required=False
    )
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(active=True), required=False
    )


class AssignForm(forms.Form):
    # Both set from the ticket's pool in __init__.
    assignee = forms.ModelChoiceField(
        label=_("Technician"), queryset=active_agents().none(), required=False
    )
    manager = forms.ModelChoiceField(
        label=_("Manager"), queryset=active_agents().none(), required=False
    )

    def __init__(self, *args, pool=None, **kwargs):
        super().__init__(*args, **kwargs)
        if pool is not None:
            # Only members of the ticket's pool can be its technician. The manager follows
            # the ticket for the customer's side (an account manager): any active agent, as
            # the notifications to managers expect.
            _set_queryset(self, "assignee", active_agents().filter(pool_memberships__pool=pool))
            _set_queryset(self, "manager", active_agents())


class WatcherForm(forms.Form):
    user = forms.ModelChoiceField(label=_("Watcher"), queryset=active_agents().none())
    remove = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, ticket=None, **kwargs):
        super().__init__(*args, **kwargs)
        if ticket is not None:
            # Those who see the ticket, and whoever watches it now (so they can be removed
            # after leaving its pool).
            watching = active_agents().filter(watched_tickets=ticket).values("pk")
            choices = active_agents().filter(
                Q(pk__in=agents_who_see_pool(ticket.pool_id).values("pk")) | Q(pk__in=watching)
            )
            _set_queryset(self, "user", choices)


class TagsForm(forms.Form):
    tags = forms.CharField(
        label=_("Tags"), required=False, help_text=_("Separate tags with commas.")
    )

    def clean_tags(self):
        names = [name.strip() for name in self.cleaned_data["tags"].split(",") if name.strip()]
        for name in names:
            if len(name) > 50:
                raise forms.ValidationError(_("A tag can be at most 50 characters long."))
        return names


class MergeForm(forms.Form):
    target = forms.CharField(
        label=_("Merge into ticket number"), max_length=20, help_text=_("For example 2026-000123.")
    )

    def clean_target(self):
        return self.cleaned_data["target"].strip().lstrip("[#").rstrip("]")
