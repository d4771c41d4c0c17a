"""The period a report covers, chosen by name or as a range, and the one before it."""

import calendar
from datetime import date, timedelta

from django import forms
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from reports.measures import Period


class PeriodForm(forms.Form):
    CHOICES = [
        ("today", _("Today")),
        ("week", _("This week")),
        ("month", _("This month")),
        ("last30", _("Last 30 days")),
        ("custom", _("Custom range")),
    ]
    period = forms.ChoiceField(label=_("Period"), choices=CHOICES, required=False, initial="month")
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean() or {}
        if data.get("period") == "custom":
            start, end = data.get("start"), data.get("end")
            if not start or not end or start > end or (end - start).days > 3660:
                raise forms.ValidationError(_("Choose a first and a last day, in that order."))
        return data

    def periods(self) -> tuple[Period, Period]:
        """(the chosen period, the one to compare it with); this month when nothing valid."""
        data = self.cleaned_data if self.is_valid() else {}
        return choose(data.get("period") or "month", timezone.localdate(), data)


def _month_day(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def choose(name: str, today: date, data=None) -> tuple[Period, Period]:
    if name == "today":
        return Period(today, today), Period(today - timedelta(days=1), today - timedelta(days=1))
    if name == "week":
        # The locale's first day of the week: 0 Sunday, 1 Monday.
        first = int(formats.get_format("FIRST_DAY_OF_WEEK"))
        start = today - timedelta(days=(today.weekday() + 1 - first) % 7)
        week = timedelta(days=7)
        return Period(start, today), Period(start - week, today - week)
    if name == "last30":
        current = Period(today - timedelta(days=29), today)
        return current, current.before()
    if name == "custom" and data:
        current = Period(data["start"], data["end"])
        return current, current.before()
    start = today.replace(day=1)
    last_month = start - timedelta(days=1)
    previous = Period(
        last_month.replace(day=1), _month_day(last_month.year, last_month.month, today.day)
    )
    return Period(start, today), previous
