"""The queue filters a report's links use: the drill-down from a figure to its tickets."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from reports.measures import MEASURES, Period
from tickets.states import Channel


def drilldown_value(key: str, period: Period) -> str:
    return f"{key}:{period.param}"


def filter_drilldown(queryset, name, value):
    """``report=<count measure>:<first day>:<last day>``: the tickets that figure counts.
    Anything else matches nothing (never an error, never an unchecked lookup)."""
    key, _sep, dates = (value or "").partition(":")
    measure = MEASURES.get(key)
    period = Period.parse(dates)
    if measure is None or measure.condition is None or period is None:
        return queryset.none()
    return queryset.filter(measure.drilldown(period))


def _hidden_number(path: str, label):
    return django_filters.NumberFilter(field_name=path, label=label, widget=forms.HiddenInput)


def connect() -> None:
    from tickets.filters import extra_filters

    extra_filters["report"] = django_filters.CharFilter(
        label=_("Report figure"), method=filter_drilldown, widget=forms.HiddenInput
    )
    # Breakdown rows by the requester's organization, sector, or the requester.
    extra_filters["organization"] = _hidden_number("requester__organization", _("Organization"))
    extra_filters["sector"] = _hidden_number("requester__sector", _("Sector"))
    extra_filters["requester"] = _hidden_number("requester", _("Requester"))
    extra_filters["channel"] = django_filters.ChoiceFilter(
        label=_("Channel"), field_name="channel", choices=Channel.choices
    )
