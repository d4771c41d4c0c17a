"""Admins edit calendars, policies and mail templates; bad input gets a clear error."""

import io

import pytest
from django.urls import reverse

from sla.models import BusinessCalendar, Consultation, Deadline, SlaPolicy


@pytest.mark.parametrize("model", [BusinessCalendar, SlaPolicy, Deadline, Consultation])
def test_every_sla_admin_list_opens(admin_client, model, policy):
    url = reverse(f"admin:sla_{model._meta.model_name}_changelist")

    assert admin_client.get(url).status_code == 200


def test_a_calendar_with_hours_and_a_closed_day_is_added_in_one_form(admin_client):
    response = admin_client.post(
        reverse("admin:sla_businesscalendar_add"),
        {
            "name": "Kraków",
            "time_zone": "Europe/Warsaw",
            "holiday_country": "pl",
            "holiday_subdivision": "",
            "out_of_hours_reply": "",
            "intervals-TOTAL_FORMS": "1",
            "intervals-INITIAL_FORMS": "0",
            "intervals-0-weekday": "0",
            "intervals-0-start": "08:00",
            "intervals-0-end": "23:59",
            "closed_days-TOTAL_FORMS": "1",
            "closed_days-INITIAL_FORMS": "0",
            "closed_days-0-date": "2026-12-31",
            "closed_days-0-name": "Sylwester",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    calendar = BusinessCalendar.objects.get(name="Kraków")
    assert calendar.holiday_country == "PL"
    assert calendar.schedule().intervals[0][0][1] is None  # 23:59: until the end of the day


def test_an_unknown_subdivision_and_a_backwards_interval_are_refused(admin_client):
    response = admin_client.post(
        reverse("admin:sla_businesscalendar_add"),
        {
            "name": "Bad",
            "time_zone": "America/Sao_Paulo",
            "holiday_country": "BR",
            "holiday_subdivision": "XX",
            "intervals-TOTAL_FORMS": "1",
            "intervals-INITIAL_FORMS": "0",
            "intervals-0-weekday": "0",
            "intervals-0-start": "18:00",
            "intervals-0-end": "09:00",
            "closed_days-TOTAL_FORMS": "0",
            "closed_days-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 200
    assert "Unknown subdivision" in response.content.decode()
    assert "must end after it starts" in response.content.decode()
    assert not BusinessCalendar.objects.filter(name="Bad").exists()


def test_a_policy_without_targets_is_refused(admin_client, sao_paulo):
    response = admin_client.post(
        reverse("admin:sla_slapolicy_add"),
        {"name": "Empty", "order": "1", "active": "on", "calendar": sao_paulo.pk,
         "reminder_unit": "minutes", "notify_supervisors": "on"},
    )  # fmt: skip

    assert response.status_code == 200
    assert "Set at least one target." in response.content.decode()


def test_recomputing_a_policy_updates_its_open_tickets(
    admin_client, policy, events, pool, customer, django_capture_on_commit_callbacks
):
    from helpdesk.celery import app
    from tickets import services

    ticket = events(services.create_ticket, subject="X", pool=pool, requester=customer)
    before = Deadline.objects.get(ticket=ticket, target="first_response").due_at
    policy.first_response_minutes = 600
    policy.save()
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(
                reverse("admin:sla_slapolicy_changelist"),
                {"action": "recompute_deadlines", "_selected_action": [policy.pk]},
            )
    finally:
        app.conf.task_always_eager = False

    assert response.status_code == 302
    after = Deadline.objects.get(ticket=ticket, target="first_response").due_at
    assert after > before


def test_the_demo_and_the_apply_command_give_open_tickets_deadlines(events, pool, customer):
    from django.core.management import call_command

    from tickets import services

    ticket = services.create_ticket(subject="Before the SLA", pool=pool, requester=customer)
    assert not Deadline.objects.filter(ticket=ticket).exists()

    output = io.StringIO()
    call_command("load_demo_sla", stdout=output)
    call_command("load_demo_sla", stdout=output)

    assert SlaPolicy.objects.filter(name="Standard").count() == 1
    assert set(BusinessCalendar.objects.values_list("holiday_country", flat=True)) == {"BR", "PL"}
    assert Deadline.objects.filter(ticket=ticket, state="running").count() == 2
