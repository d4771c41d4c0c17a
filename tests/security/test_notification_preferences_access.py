"""/me/notifications/ is an agent's own page: customers and strangers never reach it, and an
agent can only ever change their own row."""

from django.urls import reverse

from mailboxes.models import NotificationPreference

URL = "/me/notifications/"


def test_anonymous_visitors_are_sent_to_sign_in(client, db):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post(URL, {"new_ticket": "immediate"}).status_code == 302
    assert not NotificationPreference.objects.exists()


def test_a_customer_gets_404(customer_client):
    assert customer_client.get(URL).status_code == 404
    assert customer_client.post(URL, {"new_ticket": "immediate"}).status_code == 404
    assert not NotificationPreference.objects.exists()


def test_a_posted_user_field_is_ignored(agent_client, agent, supervisor):
    data = {
        "user": supervisor.pk,
        "new_ticket": "immediate",
        "assigned": "off",
        "customer_replied": "digest",
        "mention": "immediate",
        "sla_warning": "immediate",
        "digest_period": "hourly",
    }
    assert agent_client.post(reverse("notification_preferences:edit"), data).status_code == 302
    row = NotificationPreference.objects.get()
    assert row.user == agent and row.assigned == "off"
