"""An agent never sees a ticket of a pool they are not in, by any route (SECURITY.md)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tickets import services
from tickets.models import Attachment, Ticket
from tickets.states import Status


@pytest.fixture
def foreign_ticket(other_pool, other_customer):
    ticket = services.create_ticket(
        subject="Secret hardware order", pool=other_pool, requester=other_customer
    )
    services.add_customer_message(
        ticket,
        contact=other_customer,
        body_text="see file",
        files=[SimpleUploadedFile("order.pdf", b"%PDF-1.4 secret")],
    )
    return ticket


def test_queue_tabs_never_list_a_foreign_pool(agent_client, foreign_ticket):
    for tab in ("mine", "waiting", "watched", "all"):
        response = agent_client.get(reverse("tickets:queue"), {"tab": tab})
        assert response.status_code == 200
        assert foreign_ticket.get_absolute_url() not in response.text


def test_search_and_filters_never_reach_a_foreign_pool(agent_client, foreign_ticket, other_pool):
    queue = reverse("tickets:queue")
    for params in (
        {"tab": "all", "q": foreign_ticket.number},
        {"tab": "all", "q": "Secret"},
        {"tab": "all", "pool": other_pool.pk},
        {"tab": "all", "status": Status.NEW},
    ):
        response = agent_client.get(queue, params)
        assert foreign_ticket.get_absolute_url() not in response.text
        assert foreign_ticket not in response.context["tickets"]


def test_foreign_ticket_page_and_actions_are_not_found(agent_client, foreign_ticket):
    number = foreign_ticket.number
    assert agent_client.get(reverse("tickets:detail", args=[number])).status_code == 404
    posts = {
        "reply": {"body": "hijack"},
        "note": {"note-body": "peek"},
        "status": {"status": Status.CLOSED},
        "tags": {"tags": "x"},
        "presence": {},
        "merge": {"target": number},
    }
    for name, data in posts.items():
        response = agent_client.post(reverse(f"tickets:{name}", args=[number]), data)
        assert response.status_code == 404, name
    foreign_ticket.refresh_from_db()
    assert foreign_ticket.status == Status.NEW
    assert foreign_ticket.messages.count() == 1


def test_foreign_ticket_sidebar_forms_are_not_found(agent_client, foreign_ticket):
    for name in ("assign", "fields", "watchers"):
        url = reverse("tickets:sidebar_form", args=[foreign_ticket.number, name])
        assert agent_client.get(url).status_code == 404, name


def test_foreign_attachment_download_is_not_found(agent_client, foreign_ticket, pool, customer):
    attachment = Attachment.objects.get(ticket=foreign_ticket)
    url = reverse("tickets:attachment", args=[foreign_ticket.number, attachment.pk])
    assert agent_client.get(url).status_code == 404
    # Nor through one of the agent's own tickets with the foreign attachment's id.
    own = services.create_ticket(subject="Mine", pool=pool, requester=customer)
    url = reverse("tickets:attachment", args=[own.number, attachment.pk])
    assert agent_client.get(url).status_code == 404


def test_counts_leave_out_foreign_pools(agent_client, foreign_ticket, pool, customer):
    services.create_ticket(subject="Mine", pool=pool, requester=customer)
    response = agent_client.get(reverse("tickets:queue"))
    assert response.context["counts"]["waiting"] == "1"


def test_next_ticket_never_hands_out_a_foreign_ticket(agent_client, foreign_ticket):
    response = agent_client.post(reverse("tickets:next"))
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:queue")
    foreign_ticket.refresh_from_db()
    assert foreign_ticket.assignee is None


def test_merging_into_a_foreign_ticket_is_refused(agent_client, foreign_ticket, pool, customer):
    own = services.create_ticket(subject="Mine", pool=pool, requester=customer)
    response = agent_client.post(
        reverse("tickets:merge", args=[own.number]), {"target": foreign_ticket.number}
    )
    assert response.status_code == 404
    own.refresh_from_db()
    assert own.merged_into is None


def test_supervisor_sees_every_pool(client, supervisor, foreign_ticket):
    client.force_login(supervisor)
    assert client.get(reverse("tickets:detail", args=[foreign_ticket.number])).status_code == 200
    response = client.get(reverse("tickets:queue"), {"tab": "all"})
    assert foreign_ticket.get_absolute_url() in response.text


def test_substitute_sees_the_absent_agents_tickets(client, agent, foreign_ticket, make_absence):
    from tests.conftest import _agent

    owner = _agent("owner", pools=[foreign_ticket.pool])
    services.assign_ticket(foreign_ticket, agent=owner, actor=owner)
    url = reverse("tickets:detail", args=[foreign_ticket.number])
    client.force_login(agent)
    assert client.get(url).status_code == 404
    make_absence(owner, substitute=agent)
    assert client.get(url).status_code == 200


def test_people_without_an_agent_profile_reach_nothing(client, django_user_model, foreign_ticket):
    stranger = django_user_model.objects.create_user("stranger", password="x-long-pass-9")
    client.force_login(stranger)
    assert client.get(reverse("tickets:queue")).status_code == 404
    assert client.get(reverse("tickets:detail", args=[foreign_ticket.number])).status_code == 404
    assert Ticket.objects.visible_to(stranger).count() == 0


def test_anonymous_visitors_are_sent_to_sign_in(client, foreign_ticket):
    response = client.get(reverse("tickets:detail", args=[foreign_ticket.number]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
