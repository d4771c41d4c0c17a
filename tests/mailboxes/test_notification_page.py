"""The agent's notifications page: shows the defaults, saves choices, says who reads them."""

from django.urls import reverse

from mailboxes.models import NotificationPreference, PendingNotification
from tickets import services

URL = "/me/notifications/"


def test_the_page_shows_the_defaults_and_is_linked_from_the_profile(
    agent_client, django_assert_max_num_queries
):
    profile = agent_client.get(reverse("people:profile")).content.decode()
    assert 'href="/me/notifications/"' in profile
    with django_assert_max_num_queries(12):
        page = agent_client.get(URL).content.decode()
    assert 'name="new_ticket" id="id_new_ticket_0" value="off" checked' in page
    assert 'name="assigned" id="id_assigned_1" value="immediate" checked' in page
    assert "whatever the administrators" in page


def test_saving_stores_the_agents_choices(agent_client, agent):
    data = {
        "new_ticket": "digest",
        "assigned": "immediate",
        "customer_replied": "off",
        "mention": "immediate",
        "sla_warning": "digest",
        "digest_period": "hourly",
    }
    response = agent_client.post(URL, data)
    assert response.status_code == 302
    row = NotificationPreference.objects.get(user=agent)
    assert (row.new_ticket, row.customer_replied, row.digest_period) == ("digest", "off", "hourly")
    assert agent_client.post(URL, {**data, "mention": "loud"}).status_code == 400


def test_the_page_says_who_reads_the_mail_while_away_and_what_waits(
    agent_client, agent, other_agent, make_absence, pool, customer
):
    make_absence(agent, substitute=other_agent)
    ticket = services.create_ticket(subject="Printer", pool=pool, requester=customer)
    PendingNotification.objects.create(user=agent, topic="assigned", ticket=ticket)
    page = agent_client.get(URL).content.decode()
    assert "gets your notifications meanwhile" in page
    assert "1 notification waits for your next digest." in page


def test_the_team_page_warns_of_an_absence_without_substitute(
    client, supervisor, agent, make_absence
):
    make_absence(agent)
    client.force_login(supervisor)
    page = client.get(reverse("people:team")).content.decode()
    away = page.split('id="away-now"')[1].split("</ul>")[0]
    assert "No substitute: their notification mail reaches nobody." in away
