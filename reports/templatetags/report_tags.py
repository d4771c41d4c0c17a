"""A figure's value in the reader's locale: counts, durations, percentages, ratings."""

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


def duration(seconds) -> str:
    """Rounded to the minute: "2 d 3 h", "3 h 05 min", "12 min"."""
    minutes = round(seconds / 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return _("%(days)s d %(hours)s h") % {"days": intcomma(days), "hours": hours}
    if hours:
        return _("%(hours)s h %(minutes)02d min") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)s min") % {"minutes": minutes}


@register.filter
def report_value(value, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "count":
        return intcomma(value)
    if unit == "seconds":
        return duration(value)
    if unit == "percent":
        return f"{floatformat(value, 1)} %"
    if unit == "score":
        return floatformat(value, 0)
    return floatformat(value, 2)


@register.simple_tag
def figure_value(value, unit: str, link: str = ""):
    """The value, as a link to its tickets when it has one (a tag: far cheaper than an
    include per figure)."""
    text = report_value(value, unit)
    return format_html('<a href="{}">{}</a>', link, text) if link else text
