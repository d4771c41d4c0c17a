"""Everything is editable in Django admin, and secrets never render back."""

import pytest
from django.contrib import admin
from django.urls import reverse

from tests.factories import TicketFactory


@pytest.fixture
def admin_client_logged(client, admin_user):
    client.force_login(admin_user)
    return client


def test_every_admin_list_and_add_page_renders(admin_client_logged, admin_user, pool, rf):
    TicketFactory(pool=pool)
    request = rf.get("/")
    request.user = admin_user
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        changelist = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert admin_client_logged.get(changelist).status_code == 200, changelist
        add = reverse(f"admin:{meta.app_label}_{meta.model_name}_add")
        # Tickets, fetched mail and the outbox are made by the product, not typed in admin.
        expected = 200 if model_admin.has_add_permission(request) else 403
        assert admin_client_logged.get(add).status_code == expected, add


def test_people_models_are_in_admin():
    from people import models as people_models
    from tickets import models as ticket_models

    expected = [
        people_models.Skill,
        people_models.Absence,
        people_models.Contact,
        people_models.Organization,
        people_models.Sector,
        people_models.Department,
        ticket_models.Pool,
        ticket_models.Topic,
        ticket_models.Product,
        ticket_models.CannedResponse,
        ticket_models.Ticket,
    ]
    assert all(admin.site.is_registered(model) for model in expected)


def test_agent_profile_is_edited_on_the_user_page(admin_client_logged, agent):
    response = admin_client_logged.get(reverse("admin:auth_user_change", args=[agent.pk]))
    assert "Junior" in response.text or "junior" in response.text
    assert "signature" in response.text.lower()
