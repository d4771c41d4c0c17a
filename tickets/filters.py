"""Queue filters. Only these fields and sort keys reach the database (an allowlist)."""

import copy
import functools
from typing import cast

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from people.forms import AgentChoiceField
from tickets.models import Pool, Product, Tag, Ticket, Topic
from tickets.querysets import active_agents, agents_usable_by
from tickets.search import find
from tickets.search import search as search_tickets
from tickets.states import Channel, Priority, Status


# Filters other apps add to the queue in their AppConfig.ready() (the reports' drill-down):
# name -> filter. Still an allowlist, each filter validating its own value; tickets knows
# nothing of what they mean.
def _loaded_choice(field, by_key: dict, value):
    """``ModelChoiceField.to_python`` over a list the view loaded anyway (same errors)."""
    if value in field.empty_values:
        return None
    try:
        return by_key[str(value)]
    except KeyError:
        raise forms.ValidationError(
            field.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
        ) from None


class AgentChoiceFilter(django_filters.ModelChoiceFilter):
    """Agents by name in the select, never by user name."""

    field_class = AgentChoiceField


extra_filters: dict[str, django_filters.Filter] = {}


class TicketFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="search")
    # Status is a plain column: no duplicates, so no DISTINCT (which sorts every match).
    status = django_filters.MultipleChoiceFilter(
        label=_("Status"), choices=Status.choices, distinct=False
    )
    # Pool, technician and tag are scoped to the user in __init__ (none until then).
    pool = django_filters.ModelChoiceFilter(label=_("Pool"), queryset=Pool.objects.none())
    topic = django_filters.ModelChoiceFilter(label=_("Topic"), queryset=Topic.objects.all())
    product = django_filters.ModelChoiceFilter(label=_("Product"), queryset=Product.objects.all())
    priority = django_filters.ChoiceFilter(label=_("Priority"), choices=Priority.choices)
    channel = django_filters.ChoiceFilter(label=_("Channel"), choices=Channel.choices)
    assignee = AgentChoiceFilter(label=_("Technician"), queryset=active_agents().none())
    tag = django_filters.ModelChoiceFilter(
        label=_("Tag"), field_name="tags", queryset=Tag.objects.none(), to_field_name="name"
    )
    created = django_filters.DateFromToRangeFilter(
        label=_("Created between"),
        field_name="created_at",
        widget=django_filters.widgets.DateRangeWidget(attrs={"type": "date"}),
    )
    ordering = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields=(
            ("created_at", "created"),
            ("updated_at", "updated"),
            ("priority", "priority"),
            ("status", "status"),
            ("number", "number"),
            ("subject", "subject"),
        ),
        field_labels={
            "created_at": _("Created"),
            "updated_at": _("Updated"),
            "priority": _("Priority"),
            "status": _("Status"),
            "number": _("Number"),
            "subject": _("Subject"),
        },
    )

    class Meta:
        model = Ticket
        fields: list[str] = []

    def __init__(
        self, *args, user, pools=None, topics=None, products=None, agents=None, tags=None, **kwargs
    ):
        """``user``: whose choices these are (their pools, the agents and tags of those).

        ``pools``, ``topics``, ``products``, ``agents``, ``tags``: the choices, already loaded
        by the view.
        """
        super().__init__(*args, **kwargs)
        self.filters["pool"].queryset = Pool.objects.usable_by(user)
        self.filters["assignee"].queryset = agents_usable_by(user)
        self.filters["tag"].queryset = Tag.objects.visible_to(user)
        for name, extra in extra_filters.items():
            self.filters[name] = copy.deepcopy(extra)
            self.filters[name].parent = self
        self.loaded_choices = {
            name: items
            for name, items in (
                ("pool", pools),
                ("topic", topics),
                ("product", products),
                ("assignee", agents),
                ("tag", tags),
            )
            if items is not None
        }
        if pools is not None:
            # The same pools as usable_by, already loaded: no subquery for the validation.
            self.filters["pool"].queryset = Pool.objects.filter(pk__in=[p.pk for p in pools])

    def with_params(self, data, queryset) -> "TicketFilter":
        """The same filters (their choices scoped and loaded already) over other values and
        rows: a saved view's count costs no second set-up (copying every filter, scoping it)."""
        clone = copy.copy(self)
        clone.data, clone.is_bound, clone.queryset = data, True, queryset
        for cached in ("_form", "_qs", "search_found"):
            clone.__dict__.pop(cached, None)
        return clone

    @property
    def form(self):
        if not hasattr(self, "_form"):
            # The select shows the lists already loaded, and a value is checked against them:
            # no query of its own, however many saved views the queue counts.
            form = super().form
            for name, items in self.loaded_choices.items():
                field = cast(forms.ModelChoiceField, form.fields[name])
                key = field.to_field_name or "pk"
                widget = cast(forms.Select, field.widget)
                label = field.label_from_instance
                widget.choices = [
                    ("", field.empty_label),
                    *((getattr(i, key), label(i)) for i in items),
                ]
                by_key = {str(getattr(item, key)): item for item in items}
                field.to_python = functools.partial(_loaded_choice, field, by_key)  # type: ignore[method-assign]
        return super().form

    def filter_queryset(self, queryset):
        """The search last: it finds the newest matches among the rows the other filters
        kept, so its cap and its count ("2,000+") hold only tickets the list can show."""
        data = self.form.cleaned_data
        last = sorted(data, key=lambda name: name == "q")
        for name in last:
            queryset = self.filters[name].filter(queryset, data[name])
        return queryset

    def search(self, queryset, name, value):
        """Number, a requester's address, or words of the ticket (``tickets.search``).
        ``search_found``: what it found (how many, and whether there are more)."""
        if not value.strip():
            return queryset
        self.search_found = find(queryset, value)
        return search_tickets(queryset, value, found=self.search_found)
