"""Dashboard filters: pool, agent, target and the sort, each from an allowlist."""

import django_filters
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from sla.models import Deadline, Target
from tickets.filters import AgentChoiceFilter
from tickets.models import Pool


def _agents(request):
    return (
        get_user_model()
        .objects.filter(is_active=True, agent_profile__isnull=False)
        .order_by("first_name", "username")
    )


class DeadlineFilter(django_filters.FilterSet):
    pool = django_filters.ModelChoiceFilter(
        label=_("Pool"), field_name="pool", queryset=Pool.objects.all()
    )
    agent = AgentChoiceFilter(
        label=_("Technician"), field_name="ticket__assignee", queryset=_agents
    )
    target = django_filters.ChoiceFilter(label=_("Target"), choices=Target.choices)
    ordering = django_filters.OrderingFilter(
        label=_("Sort"),
        fields=(("due_at", "due"),),
        field_labels={"due_at": _("Time left")},
    )

    class Meta:
        model = Deadline
        fields = ["pool", "agent", "target"]
