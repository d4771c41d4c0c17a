"""Queue filters. Only these fields and sort keys reach the database (an allowlist)."""

import copy
from typing import cast

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from people.models import ContactEmail
from tickets.models import Pool, Product, Tag, Ticket, Topic
from tickets.querysets import active_agents, agents_usable_by
from tickets.states import Priority, Status

# Filters other apps add to the queue in their AppConfig.ready() (the reports' drill-down):
# name -> filter. Still an allowlist, each filter validating its own value; tickets knows
# nothing of what they mean.
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
    assignee = django_filters.ModelChoiceFilter(
        label=_("Technician"), queryset=active_agents().none()
    )
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

    def __init__(self, *args, user, pools=None, topics=None, products=None, **kwargs):
        """``user``: whose choices these are (their pools, the agents and tags of those).

        ``pools``, ``topics``, ``products``: the choices, already loaded by the view.
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
            for name, items in (("pool", pools), ("topic", topics), ("product", products))
            if items is not None
        }
        if pools is not None:
            # The same pools as usable_by, already loaded: no subquery for the validation.
            self.filters["pool"].queryset = Pool.objects.filter(pk__in=[p.pk for p in pools])

    @property
    def form(self):
        if not hasattr(self, "_form"):
            # The select shows the lists already loaded: no second query for its options.
            # (Validation still goes through the field's queryset.)
            form = super().form
            for name, items in self.loaded_choices.items():
                field = cast(forms.ModelChoiceField, form.fields[name])
                widget = cast(forms.Select, field.widget)
                widget.choices = [("", field.empty_label), *((i.pk, str(i)) for i in items)]
        return super().form

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        number = value.lstrip("[#").rstrip("]")
        # The requester's ids come first, as a list: an OR with a subquery would keep
        # PostgreSQL from using the subject's trigram index.
        requesters = list(
            ContactEmail.objects.filter(address=value.lower()).values_list("contact_id", flat=True)
        )
        match = Q(number=number) | Q(subject__icontains=value)
        if requesters:
            match |= Q(requester_id__in=requesters)
        return queryset.filter(match)
