"""A token of pool X never reads or changes pool Y, by any endpoint, and its counts leave Y
out; a junior's reply by API waits for approval as in the UI (SECURITY.md, issue 14)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from api.services import create_service_account, create_token
from mailboxes.models import OutgoingEmail
from surveys.models import Answer, Question, Questionnaire, Response
from tickets import services
from tickets.models import Approval, Message, Ticket
from tickets.states import Status


def _client(owner, *, pools=(), scope="write", actor=None):
    _token, secret = create_token(
        owner=owner, name="t", scope=scope, pools=pools, actor=actor or owner
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


@pytest.fixture
def tickets(pool, other_pool, customer, other_customer):
    """One ticket in each pool, each with a customer's file."""
    made = {}
    for key, where, contact in (("x", pool, customer), ("y", other_pool, other_customer)):
        ticket = services.create_ticket(subject=f"Ticket {key}", pool=where, requester=contact)
        services.add_customer_message(
            ticket, contact=contact, body_text="file",
            files=[SimpleUploadedFile(f"{key}.pdf", b"%PDF secret")],
        )  # fmt: skip
        made[key] = ticket
    return made


@pytest.fixture
def scoped(supervisor, pool):
    """A supervisor (sees every pool) with a token limited to pool X."""
    return _client(supervisor, pools=[pool])


@pytest.fixture
def scoped_bot(admin_user, pool):
    account = create_service_account(name="Chatbot", actor=admin_user)
    return _client(account.user, pools=[pool], actor=admin_user)


def _numbers(response):
    assert response.status_code == 200, response.content
    return {row["number"] for row in response.json()["results"]}


@pytest.mark.parametrize("who", ["scoped", "scoped_bot", "agent_token"])
def test_the_list_never_shows_the_other_pool(request, tickets, other_pool, agent, who):
    client = _client(agent) if who == "agent_token" else request.getfixturevalue(who)
    y = tickets["y"]
    assert _numbers(client.get("/api/v1/tickets/")) == {tickets["x"].number}
    for params in ({"q": y.number}, {"q": "Ticket y"}, {"status": Status.NEW}):
        assert y.number not in _numbers(client.get("/api/v1/tickets/", params))
    response = client.get("/api/v1/tickets/", {"pool": other_pool.pk})
    assert response.status_code == 400
    assert "pool" in response.json()["errors"]


def test_reading_or_changing_the_other_pools_ticket_is_not_found(scoped, tickets, supervisor):
    y = tickets["y"]
    attachment = y.attachments.get()
    calls = [
        ("get", f"/api/v1/tickets/{y.number}/", None),
        ("patch", f"/api/v1/tickets/{y.number}/", {"status": "cancelled"}),
        ("patch", f"/api/v1/tickets/{y.number}/", {"tags": ["x"]}),
        ("post", f"/api/v1/tickets/{y.number}/replies/", {"body": "hijack"}),
        ("post", f"/api/v1/tickets/{y.number}/notes/", {"body": "peek"}),
        ("get", f"/api/v1/tickets/{y.number}/attachments/{attachment.pk}/", None),
    ]
    for method, url, data in calls:
        response = getattr(scoped, method)(url, data, format="json")
        assert response.status_code == 404, (method, url)
        assert response.json()["code"] == "not_found"
    y.refresh_from_db()
    assert y.status == Status.NEW and not y.tags.exists()
    assert y.messages.count() == 1


def test_an_attachment_id_of_the_other_pool_is_not_found_under_a_visible_ticket(scoped, tickets):
    foreign = tickets["y"].attachments.get()
    url = f"/api/v1/tickets/{tickets['x'].number}/attachments/{foreign.pk}/"
    assert scoped.get(url).status_code == 404


def test_a_ticket_cannot_be_moved_or_opened_into_the_other_pool(
    scoped, tickets, other_pool, customer
):
    x = tickets["x"]
    response = scoped.patch(f"/api/v1/tickets/{x.number}/", {"pool": other_pool.pk}, format="json")
    assert response.status_code == 400
    x.refresh_from_db()
    assert x.pool_id != other_pool.pk
    response = scoped.post(
        "/api/v1/tickets/",
        {"subject": "s", "body": "b", "pool": other_pool.pk, "contact": customer.pk},
        format="json",
    )
    assert response.status_code == 400
    assert not Ticket.objects.filter(subject="s").exists()


def test_pools_list_only_the_tokens(scoped, pool, other_pool):
    response = scoped.get("/api/v1/pools/")
    assert [row["id"] for row in response.json()] == [pool.pk]


def test_survey_answers_of_the_other_pool_are_left_out(scoped, tickets):
    questionnaire = Questionnaire.objects.create(name="CSAT", kind=Questionnaire.Kind.SATISFACTION)
    question = Question.objects.create(
        questionnaire=questionnaire, text="How?", kind=Question.Kind.RATING
    )
    for ticket in tickets.values():
        response = Response.objects.create(
            questionnaire=questionnaire, kind=questionnaire.kind, ticket=ticket, pool=ticket.pool
        )
        Answer.objects.create(response=response, question=question, number=4)
    body = scoped.get("/api/v1/survey-responses/").json()
    assert [row["ticket"] for row in body["results"]] == [tickets["x"].number]
    assert body["results"][0]["answers"][0]["number"] == 4


def test_report_counts_leave_the_other_pool_out(scoped, tickets, supervisor, pool):
    figures = {
        row["key"]: row["now"] for row in scoped.get("/api/v1/reports/figures/").json()["figures"]
    }
    assert figures["open_now"] == 1
    wide = _client(supervisor)
    figures = {
        row["key"]: row["now"] for row in wide.get("/api/v1/reports/figures/").json()["figures"]
    }
    assert figures["open_now"] == 2


def test_an_agent_token_without_pools_reaches_only_the_agents_pools(agent, tickets):
    client = _client(agent)
    assert client.get(f"/api/v1/tickets/{tickets['y'].number}/").status_code == 404
    assert client.get(f"/api/v1/tickets/{tickets['x'].number}/").status_code == 200


def test_a_ticket_a_bot_opens_is_logged_as_opened_by_the_bot(scoped_bot, pool, customer):
    response = scoped_bot.post(
        "/api/v1/tickets/",
        {"subject": "From the widget", "body": "Hello", "pool": pool.pk, "contact": customer.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    ticket = Ticket.objects.get(number=response.json()["number"])
    created = ticket.activity.get(action="created")
    assert created.actor.get_full_name() == "Chatbot"
    assert ticket.messages.get().author_contact == customer


def test_a_juniors_reply_by_api_waits_for_approval(
    junior, pool, customer, eager_tasks, django_capture_on_commit_callbacks, mailoutbox
):
    from tests.factories import make_mailbox

    make_mailbox(pool)
    ticket = services.create_ticket(subject="Refund", pool=pool, requester=customer)
    client = _client(junior)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/api/v1/tickets/{ticket.number}/replies/",
            {"body": "Refund approved", "then_status": "resolved"},
            format="json",
        )
    assert response.status_code == 201, response.content
    assert response.json()["approval"] == Approval.PENDING
    message = ticket.messages.get(kind=Message.Kind.OUTBOUND)
    assert message.approval == Approval.PENDING and message.held_status == Status.RESOLVED
    ticket.refresh_from_db()
    assert ticket.status != Status.RESOLVED and ticket.first_response_at is None
    assert not OutgoingEmail.objects.exists() and mailoutbox == []
    # While it waits, the junior cannot reach the customer another way: the held status.
    response = client.patch(
        f"/api/v1/tickets/{ticket.number}/", {"status": "resolved"}, format="json"
    )
    assert response.status_code == 400
    assert "waiting for approval" in response.json()["detail"]


def test_a_supervisors_token_is_not_a_junior_loophole(junior, supervisor, pool, customer):
    """The junior cannot make a token for someone else (whose replies are not held)."""
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        create_token(owner=supervisor, name="x", scope="write", actor=junior)


def test_a_customer_known_only_from_the_other_pool_is_not_found(
    scoped, tickets, customer, other_customer, pool
):
    from people.models import Contact

    newcomer = Contact.objects.create(name="No tickets yet")
    assert scoped.get(f"/api/v1/contacts/{customer.pk}/").status_code == 200
    assert scoped.get(f"/api/v1/contacts/{newcomer.pk}/").status_code == 200
    url = f"/api/v1/contacts/{other_customer.pk}/"
    assert scoped.get(url).status_code == 404
    assert scoped.patch(url, {"name": "Renamed"}, format="json").status_code == 404
    found = scoped.get("/api/v1/contacts/", {"email": other_customer.primary_email}).json()
    assert found["results"] == []
    listed = {row["id"] for row in scoped.get("/api/v1/contacts/").json()["results"]}
    assert listed == {customer.pk, newcomer.pk}
    response = scoped.post(
        "/api/v1/tickets/",
        {"subject": "s", "body": "b", "pool": pool.pk, "contact": other_customer.pk},
        format="json",
    )
    assert response.status_code == 400 and "contact" in response.json()["errors"]
    other_customer.refresh_from_db()
    assert other_customer.name != "Renamed"


def test_contacts_need_the_agents_contact_permission(agent, customer):
    from django.contrib.auth.models import Group

    client = _client(agent)
    assert client.get(f"/api/v1/contacts/{customer.pk}/").status_code == 200
    agent.groups.set([Group.objects.get_or_create(name="Nobody")[0]])
    client = _client(agent)
    agent = type(agent).objects.get(pk=agent.pk)  # drop the permission cache
    assert client.get(f"/api/v1/contacts/{customer.pk}/").status_code == 403


def test_a_customers_portal_login_cannot_use_the_api(customer_user, pool):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        create_token(owner=customer_user, name="x", scope="read", actor=customer_user)


def test_session_cookies_do_not_authorize_the_api(agent_client):
    response = agent_client.get("/api/v1/tickets/")
    assert response.status_code == 401


def test_tokens_page_shows_an_agent_only_their_own_tokens(client, agent, other_agent, admin_user):
    create_token(owner=other_agent, name="Other's secret bot", scope="read", actor=other_agent)
    create_token(owner=agent, name="My bot", scope="read", actor=agent)
    client.force_login(agent)
    page = client.get(reverse("api_tokens:list"))
    assert "My bot" in page.text and "Other's secret bot" not in page.text
    other = other_agent.api_tokens.get()
    assert client.post(reverse("api_tokens:revoke", args=[other.pk])).status_code == 404
    other.refresh_from_db()
    assert other.revoked_at is None
    client.force_login(admin_user)
    page = client.get(reverse("api_tokens:list"))
    assert "My bot" in page.text and "Other&#x27;s secret bot" in page.text


@pytest.fixture
def calls(pool, other_pool, tickets):
    """A call in each pool; pool X's call became a ticket that was moved to pool Y."""
    from phone.models import Call

    made = {
        key: Call.objects.create(
            pool=where,
            call_id=f"c-{key}",
            from_number="+5511987654321",
            customer_number="+5511987654321",
        )
        for key, where in (("x", pool), ("y", other_pool))
    }
    made["x"].ticket = tickets["y"]
    made["x"].save(update_fields=["ticket"])
    return made


def test_calls_of_the_other_pool_are_never_listed_read_or_reached(scoped, calls, other_pool):
    rows = scoped.get("/api/v1/calls/").json()["results"]
    assert [row["id"] for row in rows] == [calls["x"].pk]
    assert rows[0]["ticket"] is None, "the ticket moved to pool Y is not named"
    assert scoped.get("/api/v1/calls/", {"pool": other_pool.pk}).status_code == 400
    assert scoped.get("/api/v1/calls/", {"number": "+5511"}).json()["results"][0]["id"] == (
        calls["x"].pk
    )
    assert scoped.get(f"/api/v1/calls/{calls['y'].pk}/").status_code == 404


def test_calls_cannot_be_logged_or_reported_into_the_other_pool(scoped, calls, other_pool):
    from phone.models import Call

    response = scoped.post(
        "/api/v1/calls/", {"pool": other_pool.pk, "number": "11987654321"}, format="json"
    )
    assert response.status_code == 400 and "pool" in response.json()["errors"]
    event = {"event": "hangup", "call_id": "c-y", "pool": other_pool.pk}
    response = scoped.post("/api/v1/calls/events/", event, format="json")
    assert response.status_code == 400 and "pool" in response.json()["errors"]
    calls["y"].refresh_from_db()
    assert calls["y"].state == Call.State.RINGING and Call.objects.count() == 2
    # Without a pool, the token's one pool: the other pool's call id makes a new call there.
    response = scoped.post("/api/v1/calls/events/", {**event, "pool": None}, format="json")
    assert response.status_code == 400  # null is no pool
    del event["pool"]
    assert scoped.post("/api/v1/calls/events/", event, format="json").status_code == 200
    calls["y"].refresh_from_db()
    assert calls["y"].state == Call.State.RINGING
    assert Call.objects.filter(call_id="c-y").count() == 2


def test_a_read_token_cannot_report_or_log_calls(supervisor, pool, calls):
    from phone.models import Call

    reader = _client(supervisor, pools=[pool], scope="read")
    event = {"event": "hangup", "call_id": "c-x", "pool": pool.pk}
    assert reader.post("/api/v1/calls/events/", event, format="json").status_code == 403
    logged = {"pool": pool.pk, "number": "11987654321"}
    assert reader.post("/api/v1/calls/", logged, format="json").status_code == 403
    assert reader.get("/api/v1/calls/").status_code == 200
    calls["x"].refresh_from_db()
    assert calls["x"].state == Call.State.RINGING and Call.objects.count() == 2


def test_calls_need_a_token(client, calls):
    assert client.get("/api/v1/calls/").status_code == 401
    assert client.post("/api/v1/calls/events/", {}).status_code == 401
