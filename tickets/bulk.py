"""Bulk actions on the queue: who may use them, and the form of the bulk bar."""

from typing import cast

from django import forms
from django.utils.translation import gettext_lazy as _

from people.features import Feature
from people.forms import AgentChoiceField
from people.profiles import has_feature
from people.roles import is_agent
from tickets.models import Pool
from tickets.querysets import agents_usable_by
from tickets.states import Priority, Status


def may_bulk_edit(user) -> bool:
    """Whether ``user`` sees the bulk bar and may post bulk actions: agents whose access
    profile grants *Bulk actions* (every agent without a profile)."""
    return is_agent(user) and has_feature(user, Feature.BULK_ACTIONS)


class BulkActionForm(forms.Form):
    """The bulk bar: which tickets, what to do, and the one value the action needs."""

    ACTIONS = [
        ("assign_me", _("Assign to me")),
        ("assign", _("Assign to")),
        ("status", _("Set status")),
        ("priority", _("Set priority")),
        ("pool", _("Move to pool")),
        ("add_tags", _("Add tags")),
        ("remove_tags", _("Remove tags")),
        ("merge", _("Merge into")),
    ]
    # The value field each action needs (none for assign_me).
    NEEDS = {
        "assign": "assignee",
        "status": "status",
        "priority": "priority",
        "pool": "pool",
        "add_tags": "tags",
        "remove_tags": "tags",
        "merge": "target",
    }

    action = forms.ChoiceField(label=_("Bulk action"), choices=ACTIONS)
    assignee = AgentChoiceField(label=_("Technician"), queryset=Pool.objects.none(), required=False)
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", "—"), *Status.choices], required=False
    )
    priority = forms.TypedChoiceField(
        label=_("Priority"),
        choices=[("", "—"), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
    )
    pool = forms.ModelChoiceField(label=_("Pool"), queryset=Pool.objects.none(), required=False)
    tags = forms.CharField(
        label=_("Tags"), required=False, max_length=500, help_text=_("Separate tags with commas.")
    )
    target = forms.CharField(label=_("Merge into ticket number"), required=False, max_length=20)

    def __init__(self, *args, user, pools=None, agents=None, **kwargs):
        """``pools``, ``agents``: the choices, when the page has loaded them already (the
        queue's filters): the selects show them without a query of their own."""
        super().__init__(*args, **kwargs)
        self.user = user
        cast(forms.ModelChoiceField, self.fields["assignee"]).queryset = agents_usable_by(user)
        # Tickets move only to pools the agent works in: the bar names no other pool.
        usable = Pool.objects.usable_by(user).filter(active=True)
        cast(forms.ModelChoiceField, self.fields["pool"]).queryset = usable
        loaded = {"pool": pools, "assignee": agents}
        for name, items in loaded.items():
            if items is not None:
                field = self.fields[name]
                label = getattr(field, "label_from_instance", str)
                field.widget.choices = [("", "—"), *((item.pk, label(item)) for item in items)]

    def clean(self):
        data = super().clean() or {}
        ids = []
        for raw in self.data.getlist("ticket") if hasattr(self.data, "getlist") else []:
            try:
                ids.append(int(raw))
            except ValueError:
                continue
        if not ids:
            raise forms.ValidationError(_("Select at least one ticket."))
        data["ticket_ids"] = ids
        needed = self.NEEDS.get(data.get("action", ""))
        if needed and data.get(needed) in (None, ""):
            self.add_error(needed, _("Choose a value for this action."))
        if needed == "tags":
            names = [name.strip() for name in data["tags"].split(",") if name.strip()]
            if any(len(name) > 50 for name in names):
                self.add_error("tags", _("A tag can be at most 50 characters long."))
            data["tags"] = names
        if needed == "target":
            data["target"] = data["target"].strip().lstrip("[#").rstrip("]")
        return data

    def value(self):
        """The action's value: the chosen agent, status, pool... (the user for assign_me)."""
        action = self.cleaned_data["action"]
        if action == "assign_me":
            return self.user
        return self.cleaned_data[self.NEEDS[action]]
