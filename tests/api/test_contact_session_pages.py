"""Agents see a customer's app sessions on the contact's page and sign one or all out; who
did it, when and why stays on the session (listed under "Signed out") and in the log."""

import logging

import pytest
from django.urls import reverse
from django.utils import timezone

from api.contact_access import issue_app_session
from api.models import ContactToken
from tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def maria(widget_channel):
    contact = ContactFactory(name="Maria Silva")
    issue_app_session(contact, widget_channel, device="Pixel 8")
    issue_app_session(contact, widget_channel, device="iPad")
    return contact


def test_the_contact_page_lists_the_active_sessions(agent_client, maria):
    page = agent_client.get(reverse("tickets:contact", args=[maria.pk])).content.decode()

    assert 'id="contact-panel-app-sessions"' in page
    assert "Pixel 8 · Website" in page and "iPad · Website" in page
    assert reverse("app_sessions:list", args=[maria.pk]) in page


def test_a_contact_without_sessions_has_no_box(agent_client, customer):
    page = agent_client.get(reverse("tickets:contact", args=[customer.pk])).content.decode()

    assert "contact-panel-app-sessions" not in page


def test_the_sessions_page_signs_one_out_with_a_confirmation(agent_client, agent, maria, caplog):
    page = agent_client.get(reverse("app_sessions:list", args=[maria.pk]))
    assert page.status_code == 200
    assert page.content.decode().count('data-confirm="Sign out this app session?') == 2
    pixel = ContactToken.objects.get(device="Pixel 8")

    with caplog.at_level(logging.INFO, logger="api.contact_sessions"):
        answer = agent_client.post(reverse("app_sessions:revoke", args=[maria.pk, pixel.key]))

    assert answer.status_code == 302
    pixel.refresh_from_db()
    assert pixel.revoke_reason == ContactToken.Reason.AGENT and pixel.revoked_by == agent
    assert ContactToken.objects.get(device="iPad").revoked_at is None
    assert "api.contact_tokens_revoked count=1 reason=agent" in caplog.text
    after = agent_client.get(reverse("app_sessions:list", args=[maria.pk])).content.decode()
    assert 'id="revoked-sessions"' in after and "Signed out by an agent · Agent" in after


def test_sign_out_all(agent_client, maria):
    answer = agent_client.post(reverse("app_sessions:revoke_all", args=[maria.pk]), follow=True)

    assert "2 app sessions were signed out." in answer.content.decode()
    assert not ContactToken.objects.active().exists()


def test_a_supervisor_manages_every_pools_sessions(client, supervisor, maria):
    client.force_login(supervisor)

    assert client.get(reverse("app_sessions:list", args=[maria.pk])).status_code == 200
    client.post(reverse("app_sessions:revoke_all", args=[maria.pk]))
    assert not ContactToken.objects.active().exists()


def test_the_sessions_page_query_count_does_not_grow(
    agent_client, agent, maria, widget_channel, django_assert_max_num_queries
):
    for i in range(20):
        issue_app_session(maria, widget_channel, device=f"phone {i}")
    ContactToken.objects.filter(device__startswith="phone 1").update(
        revoked_at=timezone.now(), revoked_by=agent, revoke_reason="agent"
    )

    with django_assert_max_num_queries(12):
        agent_client.get(reverse("app_sessions:list", args=[maria.pk]))
