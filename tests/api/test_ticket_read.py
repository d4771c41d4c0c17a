"""The ticket read (``api.detail``) writes, byte for byte, what the documented serializer
(``TicketDetailSerializer``, from which the OpenAPI schema is made) writes for the same
ticket, in a fixed number of queries, reaching only what the token may reach."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Prefetch
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from api.serializers import TicketDetailSerializer
from people.models import ContactEmail
from tests.factories import TicketFactory, TopicFactory
from tickets import services
from tickets.models import Approval, Attachment, Message, Product, Ticket

ZONE = "America/Sao_Paulo"  # not the server's: the times are converted, as DRF converts them


def _reference(response, number: str) -> bytes:
    """What the serializer makes of the ticket, rendered as the API renders."""
    messages = Message.objects.select_related("author_user", "author_contact").prefetch_related(
        Prefetch("attachments", queryset=Attachment.objects.order_by("pk"))
    )
    ticket = (
        Ticket.objects.select_related("pool", "topic", "product", "assignee", "requester")
        .prefetch_related("tags", "requester__emails", Prefetch("messages", queryset=messages))
        .get(number=number)
    )
    context = {"request": response.wsgi_request, "number": number}
    with timezone.override(ZONE):
        data = TicketDetailSerializer(ticket, context=context).data
    return JSONRenderer().render(data)


def _read(client, number: str):
    client.cookies["tz"] = ZONE
    response = client.get(reverse("api:ticket", args=[number]))
    assert response.status_code == 200, response.content
    return response


@pytest.fixture
def full_ticket(agent, junior, pool, customer):
    """Every part of a read: topic, product, technician with a name, tags, times, a
    requester whose primary address is not the first by address, the customer's files,
    an internal note with a file, a reply, and a junior's reply waiting for approval with
    its file, by an author with no first or last name."""
    ContactEmail.objects.filter(contact=customer).delete()
    ContactEmail.objects.create(contact=customer, address="a-other@example.com")
    ContactEmail.objects.create(contact=customer, address="z-main@example.com", is_primary=True)
    agent.first_name, agent.last_name = "Ana", "Agente"
    agent.save()
    junior.first_name = junior.last_name = ""
    junior.save()
    ticket = services.create_ticket(subject="Printer on fire", pool=pool, requester=customer)
    Ticket.objects.filter(pk=ticket.pk).update(
        topic=TopicFactory(),
        product=Product.objects.create(name="Laser 3000"),
        due_at=timezone.now() + timedelta(days=2),
    )
    ticket.refresh_from_db()
    services.set_tags(ticket, names=["zeta", "alpha", "mid-way"], actor=agent)
    services.add_customer_message(
        ticket, contact=customer, body_text="It smokes",
        files=[SimpleUploadedFile("b.txt", b"bb"), SimpleUploadedFile("a.pdf", b"%PDF a")],
    )  # fmt: skip
    ticket = services.assign_ticket(ticket, agent=agent, actor=agent)
    services.add_note(
        ticket, author=agent, body="Internal: the toner", files=[SimpleUploadedFile("n.png", b"x")]
    )
    services.add_reply(ticket, author=agent, body="Unplug it")
    services.add_customer_message(ticket, contact=customer, body_text="Still smokes")
    services.add_reply(
        ticket, author=junior, body="Draft", files=[SimpleUploadedFile("draft.txt", b"d")]
    )
    return ticket


def test_the_read_is_what_the_documented_serializer_writes(agent_api, full_ticket):
    response = _read(agent_api, full_ticket.number)
    assert response.content == _reference(response, full_ticket.number)
    body = response.json()
    # Not an empty comparison: every part is there.
    assert body["tags"] == ["alpha", "mid-way", "zeta"]
    assert body["requester_email"] == "z-main@example.com"
    assert body["topic"] and body["product"] and body["assignee"]["name"] == "Ana Agente"
    assert body["due_at"].endswith("-03:00")  # in the requested time zone
    kinds = [(m["kind"], m["approval"], len(m["attachments"])) for m in body["messages"]]
    assert kinds == [
        (Message.Kind.INBOUND, Approval.NOT_NEEDED, 2),
        (Message.Kind.NOTE, Approval.NOT_NEEDED, 1),
        (Message.Kind.OUTBOUND, Approval.NOT_NEEDED, 0),
        (Message.Kind.INBOUND, Approval.NOT_NEEDED, 0),
        (Message.Kind.OUTBOUND, Approval.PENDING, 1),
    ]
    pending = body["messages"][-1]
    assert pending["author_user"]["name"] == pending["author_user"]["username"] == "junior"
    assert pending["attachments"][0]["download_url"].startswith("http://testserver/api/v1/")


def test_a_bare_ticket_is_what_the_serializer_writes(agent_api, pool):
    ticket = TicketFactory(pool=pool, requester=None)
    response = _read(agent_api, ticket.number)
    assert response.content == _reference(response, ticket.number)
    body = response.json()
    assert (body["requester"], body["requester_email"], body["tags"]) == (None, "", [])
    assert (body["assignee"], body["topic"], body["messages"]) == (None, None, [])


def test_a_requester_without_a_primary_address_shows_the_first(agent_api, pool, customer):
    ContactEmail.objects.filter(contact=customer).delete()
    for address in ("m@example.com", "b@example.com"):
        ContactEmail.objects.create(contact=customer, address=address)
    ticket = TicketFactory(pool=pool, requester=customer)
    response = _read(agent_api, ticket.number)
    assert response.json()["requester_email"] == "b@example.com"
    assert response.content == _reference(response, ticket.number)


def test_the_changes_answer_with_the_same_read(agent_api, full_ticket):
    url = reverse("api:ticket", args=[full_ticket.number])
    agent_api.cookies["tz"] = ZONE
    response = agent_api.patch(url, {"tags": ["new"]}, format="json")
    assert response.status_code == 200, response.content
    assert response.content == _reference(response, full_ticket.number)
    assert response.json()["tags"] == ["new"]


def test_the_read_costs_the_same_queries_however_long_the_thread(
    agent_api, agent, full_ticket, customer
):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            _read(agent_api, full_ticket.number)
        return len(queries)

    _read(agent_api, full_ticket.number)  # the token's last use: written once a minute
    before = count()
    for _ in range(3):
        services.add_customer_message(
            full_ticket, contact=customer, body_text="more",
            files=[SimpleUploadedFile("f.txt", b"x"), SimpleUploadedFile("g.txt", b"y")],
        )  # fmt: skip
    services.set_tags(full_ticket, names=["one", "two", "three", "four"], actor=agent)
    # The token with its pools and its owner's permissions, the ticket with its names,
    # requester's address and tags, the thread with its authors and files: SQLite reads the
    # pools, the permissions and the tags apart.
    expected = 3 if connection.vendor == "postgresql" else 6
    assert before == count() == expected


def test_the_other_pools_ticket_and_files_are_not_found(make_token, api_client, agent, tickets):
    client = api_client(make_token(agent))
    assert _read(client, tickets["x"].number).json()["messages"][0]["attachments"]
    response = client.get(reverse("api:ticket", args=[tickets["y"].number]))
    assert response.status_code == 404
    assert "secret" not in response.content.decode().lower()


def test_a_token_of_one_pool_does_not_read_the_other(
    make_token, api_client, supervisor, pool, tickets
):
    client = api_client(make_token(supervisor, pools=[pool]))
    assert _read(client, tickets["x"].number).json()["subject"] == "Ticket x"
    assert client.get(reverse("api:ticket", args=[tickets["y"].number])).status_code == 404
    # Without the pool limit the supervisor reads both.
    wide = api_client(make_token(supervisor, name="wide"))
    assert _read(wide, tickets["y"].number).json()["subject"] == "Ticket y"


@pytest.fixture
def tickets(pool, other_pool, customer, other_customer):
    made = {}
    for key, where, contact in (("x", pool, customer), ("y", other_pool, other_customer)):
        ticket = services.create_ticket(subject=f"Ticket {key}", pool=where, requester=contact)
        services.add_customer_message(
            ticket, contact=contact, body_text="file",
            files=[SimpleUploadedFile(f"{key}.pdf", b"%PDF secret")],
        )  # fmt: skip
        made[key] = ticket
    return made
