"""Demo calendars (São Paulo and Warsaw), SLA policies and departments; safe to re-run."""

from datetime import time, timedelta
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from people.models import Department, Organization
from sla.models import BusinessCalendar, SlaPolicy, WorkingInterval
from tickets.models import Topic
from tickets.states import Priority

CALENDARS = [
    # name, zone, country, subdivision, intervals (Mon-Fri), out-of-hours text
    (
        "São Paulo office", "America/Sao_Paulo", "BR", "SP",
        [(time(8, 0), time(12, 0)), (time(13, 0), time(18, 0))],
        "Recebemos sua mensagem fora do horário de atendimento (seg-sex, 8h-18h). "
        "Responderemos no próximo dia útil.",
    ),
    (
        "Warsaw office", "Europe/Warsaw", "PL", "",
        [(time(8, 0), time(16, 0))],
        "Otrzymaliśmy Twoją wiadomość poza godzinami pracy (pon-pt, 8-16). "
        "Odpowiemy w następnym dniu roboczym.",
    ),
]  # fmt: skip
DEPARTMENTS = [
    ("Legal", "legal@helpdesk.localhost", timedelta(hours=8)),
    ("Finance", "finance@helpdesk.localhost", timedelta(hours=4)),
    ("Engineering", "engineering@helpdesk.localhost", timedelta(hours=16)),
]


class Command(BaseCommand):
    help = "Load demo business calendars, SLA policies and departments (once)."

    @transaction.atomic
    def handle(self, *args, **options):
        calendars = {}
        for name, zone, country, subdivision, intervals, text in CALENDARS:
            calendar, created = BusinessCalendar.objects.get_or_create(
                name=name,
                defaults={
                    "time_zone": zone,
                    "holiday_country": country,
                    "holiday_subdivision": subdivision,
                    "out_of_hours_reply": text,
                },
            )
            if created:
                WorkingInterval.objects.bulk_create(
                    WorkingInterval(calendar=calendar, weekday=day, start=start, end=end)
                    for day in range(5)
                    for start, end in intervals
                )
            calendars[country] = calendar
        for name, email, response_time in DEPARTMENTS:
            Department.objects.get_or_create(
                name=name, defaults={"email": email, "response_time": response_time}
            )
        self._policies(calendars)
        call_command("apply_sla_policies", stdout=self.stdout)
        self.stdout.write(
            f"SLA demo: {len(calendars)} calendars, {SlaPolicy.objects.count()} policies."
        )

    def _policies(self, calendars):
        outage = Topic.objects.filter(name="Outage").first()
        polish = Organization.objects.filter(name="Sklep Zielony").first()
        brazil, poland = calendars["BR"], calendars["PL"]
        policies: list[tuple[str, int, dict[str, Any], BusinessCalendar, tuple, bool]] = [
            ("Outage", 10, {"topic": outage}, brazil, (30, 60, 240), True),
            ("Urgent", 20, {"priority": Priority.URGENT}, brazil, (60, 120, 480), True),
            ("Polish customers", 30, {"organization": polish}, poland, (120, 240, 1440), False),
            ("Standard", 100, {}, brazil, (240, 480, 2700), False),
        ]
        for name, order, match, calendar, (first, following, resolution), urgent in policies:
            if None in match.values():
                continue  # the tickets demo was not loaded: no such topic or organization
            SlaPolicy.objects.get_or_create(
                name=name,
                defaults={
                    "order": order,
                    "calendar": calendar,
                    "first_response_minutes": first,
                    "next_response_minutes": following,
                    "resolution_minutes": resolution,
                    "reminder_before": 25 if urgent else 20,
                    "reminder_unit": SlaPolicy.ReminderUnit.PERCENT,
                    "notify_supervisors": True,
                    "notify_manager": urgent,
                    "raise_priority": not urgent,
                    **match,
                },
            )
