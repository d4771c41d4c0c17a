"""Tickets through the API: the queue's filters, cursor pages, and every change through the
ticket page's own services (status machine, junior approval, pool membership)."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from tests.factories import TicketFactory
from tickets import services
from tickets.models import ActivityLog, Approval, Message, Ticket
from tickets.search import catch_up
from tickets.states import Channel, Priority, Status

LIST = "/api/v1/tickets/"


def _numbers(response):
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["results"]]


def test_list_shows_the_tokens_tickets_newest_first(agent_api, pool, customer):
    older = TicketFactory(pool=pool, created_at=timezone.now() - timedelta(days=1))
    newer = TicketFactory(pool=pool)
    assert _numbers(agent_api.get(LIST)) == [newer.number, older.number]


def test_cursor_pages_walk_every_ticket_once_even_with_equal_times(agent_api, pool):
    now = timezone.now()
    made = {TicketFactory(pool=pool, created_at=now).number for _ in range(7)}
    seen, url, pages = [], LIST + "?limit=3", 0
    while url:
        response = agent_api.get(url)
        seen += _numbers(response)
        url, pages = response.json()["next"], pages + 1
    assert sorted(seen) == sorted(made) and len(seen) == 7
    assert pages == 3


@pytest.mark.parametrize("ordering", ["created", "-updated", "priority", "-priority"])
def test_every_allowed_ordering_pages_without_repeats(agent_api, pool, ordering):
    for index in range(5):
        TicketFactory(pool=pool, priority=[Priority.LOW, Priority.HIGH][index % 2])
    seen, url = [], f"{LIST}?limit=2&ordering={ordering}"
    while url:
        response = agent_api.get(url)
        seen += _numbers(response)
        url = response.json()["next"]
    assert len(seen) == len(set(seen)) == 5


def test_the_queues_filters_apply(agent_api, agent, pool):
    from tests.factories import TopicFactory

    topic = TopicFactory()
    wanted = TicketFactory(
        pool=pool, status=Status.TAKEN, assignee=agent, topic=topic, priority=Priority.HIGH,
        channel=Channel.PHONE, subject="Router blinking red",
    )  # fmt: skip
    TicketFactory(pool=pool, subject="Other thing")
    services.set_tags(wanted, names=["vip"], actor=agent)
    catch_up()  # factories skip the events that index tickets for search
    for params in (
        {"status": "taken"}, {"assignee": agent.pk}, {"topic": topic.pk},
        {"priority": Priority.HIGH}, {"channel": "phone"}, {"tag": "vip"},
        {"q": "blinking"}, {"q": wanted.number}, {"pool": pool.pk},
        {"created_after": timezone.localdate().isoformat()},
    ):  # fmt: skip
        numbers = _numbers(agent_api.get(LIST, params))
        assert wanted.number in numbers, params
        if "pool" not in params and "created_after" not in params:
            assert len(numbers) == 1, params


def test_unknown_filters_and_orderings_are_refused_with_a_clear_message(agent_api):
    response = agent_api.get(LIST, {"assignee__password__startswith": "a"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"] == "Unknown parameter."
    assert "assignee__password__startswith" in body["errors"]
    response = agent_api.get(LIST, {"ordering": "requester__emails__address"})
    assert response.status_code == 400
    assert "ordering" in response.json()["errors"]
    for bad in ("garbage", "eyJvIjoiLWNyZWF0ZWQiLCJ2IjoxLCJpZCI6MX0"):
        assert agent_api.get(LIST, {"cursor": bad}).status_code == 400


def test_read_shows_the_thread(agent_api, ticket, customer):
    services.add_customer_message(ticket, contact=customer, body_text="It smokes")
    response = agent_api.get(reverse("api:ticket", args=[ticket.number]))
    assert response.status_code == 200
    body = response.json()
    assert body["subject"] == "Printer on fire"
    assert body["messages"][0]["body_text"] == "It smokes"
    assert body["pool"]["name"] == "Billing"


def test_create_opens_a_ticket_through_the_intake(agent_api, pool, customer):
    response = agent_api.post(
        LIST,
        {"subject": "Chat: no signal", "body": "My line is dead", "pool": pool.pk,
         "channel": "chat", "contact_email": "New.Person@Example.test", "contact_name": "Nia"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(number=response.json()["number"])
    assert ticket.channel == Channel.CHAT
    assert ticket.requester.name == "Nia"
    assert ticket.requester.primary_email == "new.person@example.test"
    assert ticket.messages.get().kind == Message.Kind.INBOUND
    actions = set(ticket.activity.values_list("action", flat=True))
    assert {ActivityLog.Action.CREATED, ActivityLog.Action.CUSTOMER_MESSAGE} <= actions


def test_create_with_a_file_and_an_existing_contact(agent_api, pool, customer):
    response = agent_api.post(
        LIST,
        {"subject": "Photo", "body": "see", "pool": pool.pk, "channel": "phone",
         "contact": customer.pk, "files": [SimpleUploadedFile("a.png", b"\x89PNG..")]},
        format="multipart",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    attachments = response.json()["messages"][0]["attachments"]
    assert attachments[0]["filename"] == "a.png"


def test_update_goes_through_the_status_machine(agent_api, agent, ticket):
    url = reverse("api:ticket", args=[ticket.number])
    response = agent_api.patch(url, {"status": "taken"}, format="json")
    assert response.status_code == 400
    assert "Assign a technician" in response.json()["detail"]
    response = agent_api.patch(url, {"assignee": agent.pk, "priority": 40}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "taken"
    assert response.json()["priority"] == 40
    services.change_status(ticket, to=Status.CANCELLED, actor=agent)
    response = agent_api.patch(url, {"status": "in_progress"}, format="json")
    assert response.status_code == 400
    assert "cannot go from" in response.json()["detail"]


def test_a_refused_change_undoes_the_others_in_the_same_call(agent_api, agent, ticket):
    url = reverse("api:ticket", args=[ticket.number])
    response = agent_api.patch(url, {"priority": 40, "status": "taken"}, format="json")
    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.priority == Priority.NORMAL


def test_tags_and_topic_are_set_and_logged(agent_api, agent, ticket):
    from tests.factories import TopicFactory

    topic = TopicFactory()
    response = agent_api.patch(
        reverse("api:ticket", args=[ticket.number]),
        {"tags": ["vip", "urgent-fix"], "topic": topic.pk},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["tags"] == ["urgent-fix", "vip"]
    assert ticket.activity.filter(action=ActivityLog.Action.TAG_ADDED, actor=agent).count() == 2


def test_assignee_must_be_a_member_of_the_pool(agent_api, other_agent, ticket):
    response = agent_api.patch(
        reverse("api:ticket", args=[ticket.number]), {"assignee": other_agent.pk}, format="json"
    )
    assert response.status_code == 400
    assert "not a member" in response.json()["detail"]


def test_a_reply_is_recorded_and_ready_to_send(agent_api, agent, ticket):
    response = agent_api.post(
        reverse("api:reply", args=[ticket.number]),
        {"body": "Unplug it.", "then_status": "waiting_customer", "idempotency_key": "k1"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["approval"] == Approval.NOT_NEEDED
    ticket.refresh_from_db()
    assert ticket.status == Status.WAITING_CUSTOMER
    assert ticket.first_response_at is not None
    again = agent_api.post(
        reverse("api:reply", args=[ticket.number]),
        {"body": "Unplug it.", "idempotency_key": "k1"},
        format="json",
    )
    assert again.json()["id"] == response.json()["id"]
    assert ticket.messages.filter(kind=Message.Kind.OUTBOUND).count() == 1


def test_a_note_with_a_file_and_its_download(agent_api, ticket):
    response = agent_api.post(
        reverse("api:note", args=[ticket.number]),
        {"body": "log attached", "files": [SimpleUploadedFile("log.html", b"<script>x</script>")]},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["kind"] == "note"
    url = body["attachments"][0]["download_url"]
    download = agent_api.get(url)
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert download["X-Content-Type-Options"] == "nosniff"
    assert b"".join(download.streaming_content) == b"<script>x</script>"


def test_an_empty_reply_is_a_json_400(agent_api, ticket):
    response = agent_api.post(
        reverse("api:reply", args=[ticket.number]), {"body": " "}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["detail"]


def test_unknown_ticket_and_unknown_path_are_json_404s(agent_api):
    response = agent_api.get("/api/v1/tickets/1999-999999/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}
    response = agent_api.get("/api/v1/nothing-here/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_list_page_costs_a_fixed_number_of_queries(
    agent_api, agent, pool, django_assert_num_queries
):
    for _ in range(30):
        ticket = TicketFactory(pool=pool, assignee=agent, status=Status.TAKEN)
        services.set_tags(ticket, names=["a", "b"], actor=agent)
    agent_api.get(LIST)  # the token's last use is written once a minute: not in the count
    counts = []
    for limit in (5, 25):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert len(_numbers(agent_api.get(LIST, {"limit": limit}))) == limit
        counts.append(len(queries))
    # The token, its owner's permissions, its pools (on PostgreSQL all three in one), the
    # page's ids, the rows with their names, their tags.
    assert counts == ([4, 4] if connection.vendor == "postgresql" else [6, 6])


def test_read_costs_a_fixed_number_of_queries(agent_api, agent, ticket, customer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    agent_api.get(reverse("api:ticket", args=[ticket.number]))
    counts = []
    for _ in range(2):
        services.add_customer_message(
            ticket, contact=customer, body_text="more", files=[SimpleUploadedFile("f.txt", b"x")]
        )
        with CaptureQueriesContext(connection) as queries:
            agent_api.get(reverse("api:ticket", args=[ticket.number]))
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_fast_list_row_says_what_the_documented_serializer_says(agent, pool, customer):
    from api.serializers import TicketSerializer, ticket_rows
    from tests.factories import TopicFactory

    full = TicketFactory(
        pool=pool, assignee=agent, topic=TopicFactory(), requester=customer,
        status=Status.TAKEN, due_at=timezone.now(),
    )  # fmt: skip
    services.set_tags(full, names=["b", "a"], actor=agent)
    bare = TicketFactory(pool=pool, requester=None)
    rows = ticket_rows([bare.pk, full.pk])
    assert [row["number"] for row in rows] == [bare.number, full.number]
    for row, ticket in zip(rows, [bare, full], strict=True):
        assert row == dict(TicketSerializer(ticket).data)
    assert rows[1]["tags"] == ["a", "b"]


def test_a_write_to_no_endpoint_is_a_json_404_not_the_csrf_page(agent_api):
    response = agent_api.patch("/api/v1/contacts/-5/", {"name": "x"}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
