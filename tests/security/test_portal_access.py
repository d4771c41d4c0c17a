"""Customer A reaches nothing of customer B's through any portal URL: all look "not found".

osTicket #2615 (attachments by id) and django-helpdesk #647 (tickets by id) are the bugs
this guards against: every lookup is scoped to the signed-in customer.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tickets import services
from tickets.models import Attachment
from tickets.services import portal
from tickets.states import Status


@pytest.fixture
def b_ticket(other_customer, other_customer_user, pool, agent):
    ticket = portal.open_ticket_from_portal(
        contact=other_customer,
        actor=other_customer_user,
        subject="B's private matter",
        description="B's secret text",
        pool=pool,
        files=[SimpleUploadedFile("b-secret.pdf", b"%PDF secret")],
    )
    services.add_reply(ticket, author=agent, body="Done", then_status=Status.RESOLVED)
    ticket.refresh_from_db()
    return ticket


def _b_file(ticket):
    return Attachment.objects.get(ticket=ticket, filename="b-secret.pdf")


def _urls(ticket):
    number = ticket.number
    return [
        ("get", reverse("portal:detail", args=[number]), {}),
        ("post", reverse("portal:reply", args=[number]), {"body": "hijack"}),
        ("get", reverse("portal:attachment", args=[number, _b_file(ticket).pk]), {}),
        ("post", reverse("portal:cancel", args=[number]), {}),
        ("post", reverse("portal:approve", args=[number]), {}),
        ("post", reverse("portal:reject", args=[number]), {"reason": "no"}),
    ]


def test_customer_a_gets_404_for_every_url_of_customer_bs_ticket(customer_client, b_ticket):
    for method, url, data in _urls(b_ticket):
        response = getattr(customer_client, method)(url, data)
        assert response.status_code == 404, url
        assert "B&#x27;s" not in response.content.decode()
    b_ticket.refresh_from_db()
    assert b_ticket.status == Status.RESOLVED
    assert b_ticket.messages.count() == 2


def test_b_ticket_looks_exactly_like_a_missing_one(customer_client, b_ticket):
    real = customer_client.get(reverse("portal:detail", args=[b_ticket.number]))
    missing = customer_client.get(reverse("portal:detail", args=["2026-999999"]))
    assert real.status_code == missing.status_code == 404
    assert real.content == missing.content


def test_bs_file_cannot_be_reached_through_as_own_ticket(customer_client, customer, pool, b_ticket):
    mine = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Mine", description="x", pool=pool
    )
    url = reverse("portal:attachment", args=[mine.number, _b_file(b_ticket).pk])
    assert customer_client.get(url).status_code == 404


def test_bs_ticket_is_not_listed_for_a(customer_client, b_ticket):
    for tab in ("open", "closed", "all"):
        page = customer_client.get(reverse("portal:home"), {"tab": tab}).content.decode()
        assert b_ticket.number not in page


def test_files_of_internal_notes_and_unapproved_replies_are_not_found_for_the_customer(
    customer_client, customer, pool, agent, junior
):
    ticket = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Mine", description="x", pool=pool
    )
    note = services.add_note(
        ticket, author=agent, body="note", files=[SimpleUploadedFile("internal.txt", b"x")]
    )
    draft = services.add_reply(
        ticket, author=junior, body="draft", files=[SimpleUploadedFile("draft.txt", b"x")]
    )
    for message in (note, draft):
        item = message.attachments.get()
        url = reverse("portal:attachment", args=[ticket.number, item.pk])
        assert customer_client.get(url).status_code == 404


def test_a_customer_download_is_an_attachment_never_rendered(customer_client, customer, pool):
    ticket = portal.open_ticket_from_portal(
        contact=customer,
        actor=None,
        subject="Mine",
        description="x",
        pool=pool,
        files=[SimpleUploadedFile("page.html", b"<script>alert(1)</script>", "text/html")],
    )
    item = Attachment.objects.get(ticket=ticket)
    response = customer_client.get(reverse("portal:attachment", args=[ticket.number, item.pk]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/octet-stream"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == b"<script>alert(1)</script>"


def test_customers_never_reach_the_agents_workspace(customer_client, customer, pool, agent):
    ticket = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Mine", description="x", pool=pool
    )
    urls = [
        reverse("tickets:queue"),
        reverse("tickets:detail", args=[ticket.number]),
        reverse("tickets:approvals"),
        reverse("tickets:canned_list"),
        reverse("surveys:disposition", args=[ticket.number]),
    ]
    for url in urls:
        assert customer_client.get(url).status_code == 404, url
    assert customer_client.post(reverse("tickets:next")).status_code == 404
    assert customer_client.get(reverse("admin:index")).status_code == 302  # admin's own login


def test_an_agent_without_a_customer_account_gets_404_on_the_portal(agent_client):
    assert agent_client.get(reverse("portal:home")).status_code == 404
    assert agent_client.get(reverse("knowledge:search")).status_code == 404


def test_portal_actions_refuse_get(customer_client, customer, pool):
    ticket = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Mine", description="x", pool=pool
    )
    for name in ("reply", "cancel", "approve", "reject"):
        response = customer_client.get(reverse(f"portal:{name}", args=[ticket.number]))
        assert response.status_code == 405
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
