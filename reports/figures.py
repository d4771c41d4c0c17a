"""Figures as pages show them: label, help, value now and before, and their queue links."""

from dataclasses import dataclass

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from reports.measures import MEASURES, RATIOS, Period, ratio
from reports.scope import Scope
from sla.models import Target


@dataclass
class Figure:
    key: str
    label: str
    help: str
    unit: str
    now: object
    before: object
    link_now: str = ""
    link_before: str = ""
    base: "Figure | None" = None


def _count_links(scope: Scope, key: str, periods: dict[str, Period]) -> tuple[str, str]:
    if MEASURES[key].condition is None:
        return "", ""
    return scope.link(key, periods["now"]), scope.link(key, periods["before"])


def figure(scope, values, periods, key: str, base: str | None = None) -> Figure:
    """One figure from ``compute``'s values; a ratio when ``key`` is one of RATIOS."""
    if key in RATIOS:
        part, whole, label = RATIOS[key]
        return Figure(
            key=key,
            label=str(label),
            help=gettext("%(part)s, in percent of %(whole)s.")
            % {
                "part": MEASURES[part].label,
                "whole": " + ".join(str(MEASURES[name].label) for name in whole),
            },
            unit="percent",
            now=ratio(values["now"], key),
            before=ratio(values["before"], key),
        )
    measure = MEASURES[key]
    link_now, link_before = _count_links(scope, key, periods)
    return Figure(
        key=key,
        label=str(measure.label),
        # Stored in English (gettext_noop in reports.measures), translated for the reader.
        help=gettext(measure.help),
        unit=measure.unit,
        now=values["now"].get(key),
        # "Open now" is a figure of this moment: the previous period has none.
        before=None if key == "open_now" else values["before"].get(key),
        link_now=link_now,
        link_before="" if key == "open_now" else link_before,
        base=figure(scope, values, periods, base) if base else None,
    )


DURATIONS: list[tuple[str, str | None]] = [
    ("first_response_business_average", "responded"),
    ("first_response_business_median", "responded"),
    ("first_response_average", "responded"),
    ("first_response_median", "responded"),
    ("handling_business_average", "solved"),
    ("handling_business_median", "solved"),
    ("handling_average", "solved"),
    ("handling_median", "solved"),
]

DASHBOARD: list[tuple[object, list[tuple[str, str | None]]]] = [
    (_("Tickets"), [("open_now", None), ("received", None), ("responded", None), ("solved", None)]),
    (_("Response and handling times"), DURATIONS),
    (
        _("Service levels"),
        [
            (f"sla_{target.value}_{suffix}", None)
            for target in Target
            for suffix in ("met", "breached", "met_share")
        ],
    ),
    (
        _("Reopens"),
        [("reopened", None), ("replied_after_close", None), ("replied_after_close_share", None)],
    ),
    (
        _("Satisfaction"),
        [
            ("average_rating", "rated"),
            ("csat", "rated"),
            ("nps", "scored"),
            ("operator_rating", None),
        ],
    ),
]

PERIOD_REPORT = [
    "received_by_mail",
    "solved_on_time_without_consultation",
    "solved_on_time_with_consultation",
    "solved_late_with_consultation",
    "solved_late_without_consultation",
    "consultation_on_time",
    "consultation_late",
    "replied_after_close",
    "replied_after_close_share",
]


def measure_keys(keys) -> list[str]:
    """The measures to compute for these figures (a ratio needs its two counts)."""
    needed: list[str] = []
    for key in keys:
        names = [RATIOS[key][0], *RATIOS[key][1]] if key in RATIOS else [key]
        needed += [name for name in names if name not in needed]
    return needed
