import secrets
from typing import cast

from django import forms
from django.conf import settings
from django.core.validators import URLValidator
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from people.forms import AgentChoiceField
from people.models import Contact
from people.services import ContactDetails
from tickets.models import CannedResponse, Pool, Product, Topic
from tickets.querysets import active_agents, agents_who_see_pool
from tickets.services.opening import AgentTicket
from tickets.states import AGENT_CHANNELS, Channel, Priority, Status


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


class SharedCannedResponseForm(CannedResponseForm):
    """A canned response shared with one pool, written by an agent whose access profile
    lets them manage their pools' canned responses."""

    def __init__(self, *args, pools, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pool"] = forms.ModelChoiceField(label=_("Pool"), queryset=pools)
        self.initial.setdefault("pool", self.instance.pool_id)

    def save(self, commit=True):
        self.instance.pool = self.cleaned_data["pool"]
        return super().save(commit=commit)


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
    assignee = AgentChoiceField(
        label=_("Technician"), queryset=active_agents().none(), required=False
    )
    manager = AgentChoiceField(label=_("Manager"), queryset=active_agents().none(), required=False)

    def __init__(self, *args, pool=None, **kwargs):
        super().__init__(*args, **kwargs)
        if pool is not None:
            # Only members of the ticket's pool can be its technician. The manager follows
            # the ticket for the customer's side (an account manager): any active agent, as
            # the notifications to managers expect.
            _set_queryset(self, "assignee", active_agents().filter(pool_memberships__pool=pool))
            _set_queryset(self, "manager", active_agents())


class WatcherForm(forms.Form):
    user = AgentChoiceField(label=_("Watcher"), queryset=active_agents().none())
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


class NewTicketForm(forms.Form):
    """An agent opens a ticket: for a contact found by search (``requester``) or a new one."""

    # The search results are radio buttons of this name (tickets/contact_search.html).
    requester = forms.ModelChoiceField(
        label=_("Requester"), queryset=Contact.objects.all(), required=False
    )
    new_name = forms.CharField(label=_("Name"), required=False, max_length=200)
    new_email = forms.EmailField(
        label=_("Email"),
        required=False,
        widget=forms.EmailInput(attrs={"class": "form-control form-control-sm"}),
    )
    new_phone = forms.CharField(label=_("Phone"), required=False, max_length=40)
    new_language = forms.ChoiceField(
        label=_("Language"), required=False, choices=[("", "—"), *settings.LANGUAGES]
    )
    channel = forms.ChoiceField(
        label=_("Channel"),
        choices=[(value, Channel(value).label) for value in AGENT_CHANNELS],
        initial=Channel.PHONE,
        help_text=_("Outbound email: the customer gets your description as the first mail."),
    )
    subject = forms.CharField(label=_("Subject"), max_length=255)
    description = forms.CharField(
        label=_("Description"), widget=forms.Textarea(attrs={"rows": 6}), max_length=20000
    )
    pool = forms.ModelChoiceField(label=_("Pool"), queryset=Pool.objects.none())
    topic = forms.ModelChoiceField(
        label=_("Topic"), queryset=Topic.objects.filter(active=True), required=False
    )
    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(active=True), required=False
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=[("", _("From the topic")), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    attachments = MultipleFileField(
        label=_("Attach files"),
        widget=MultipleFileInput(attrs={"class": "form-control form-control-sm"}),
    )
    assignee = AgentChoiceField(
        label=_("Technician"),
        queryset=active_agents().none(),
        required=False,
        empty_label=_("Routing decides"),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None:
            pools = Pool.objects.usable_by(user).filter(active=True)
            _set_queryset(self, "pool", pools)
            members = active_agents().filter(pool_memberships__pool__in=pools).distinct()
            _set_queryset(self, "assignee", members)

    def clean(self):
        data = super().clean() or {}
        has_new = bool(data.get("new_name", "").strip())
        if data.get("requester") is None and not has_new:
            raise forms.ValidationError(_("Choose a contact or add a new one."))
        if data.get("requester") is not None and has_new:
            raise forms.ValidationError(_("Choose a contact or add a new one, not both."))
        return data

    def agent_ticket(self) -> AgentTicket:
        data = self.cleaned_data
        new_contact = None
        if data["requester"] is None:
            new_contact = ContactDetails(
                name=data["new_name"],
                email=data["new_email"],
                phone=data["new_phone"],
                language=data["new_language"],
            )
        return AgentTicket(
            subject=data["subject"],
            description=data["description"],
            pool=data["pool"],
            channel=data["channel"],
            contact=data["requester"],
            new_contact=new_contact,
            topic=data["topic"],
            product=data["product"],
            priority=data["priority"],
            files=data["attachments"],
            assignee=data["assignee"],
        )
