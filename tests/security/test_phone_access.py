"""The phone desk: access logins only for the plan's pools, calls only of one's pools."""

import pytest
from django.db import connection

from phone.models import AccessLogin, Call
from tests.phone.conftest import *  # noqa: F403 (the phone fixtures: plan, caller, pbx)


def _to_service(client, contact):
    client.post("/phone/intake/start/", {})
    client.post("/phone/intake/origin/", {"action": "next", "origin": "walk_in"})
    client.post("/phone/intake/customer/", {"action": "choose", "contact": contact.pk})
    client.post("/phone/intake/customer/", {"action": "next"})
    return client.get("/phone/intake/service/")


def test_agents_of_the_plans_pool_see_its_access_logins(agent_client, caller, plan):
    html = _to_service(agent_client, caller).content.decode()
    assert "admin-pq" in html and "s3cr3t-pq" in html


def test_agents_of_other_pools_see_the_plan_but_not_its_access_logins(
    client, other_agent, caller, plan
):
    client.force_login(other_agent)
    response = _to_service(client, caller)
    html = response.content.decode()
    assert response.status_code == 200 and "Fiber 500" in html and "Loja Centro" in html
    assert "admin-pq" not in html and "s3cr3t-pq" not in html
    assert "Only agents of this plan" in html


def test_supervisors_see_access_logins(client, supervisor, caller, plan):
    client.force_login(supervisor)
    assert "s3cr3t-pq" in _to_service(client, caller).content.decode()


def test_access_logins_are_encrypted_at_rest(plan):
    login = AccessLogin.objects.get(plan=plan)
    with connection.cursor() as cursor:
        cursor.execute("SELECT username, password FROM phone_accesslogin WHERE id = %s", [login.pk])
        stored = cursor.fetchone()
    assert "admin-pq" not in stored[0] and "s3cr3t-pq" not in stored[1]
    assert AccessLogin.objects.get(pk=login.pk).password == "s3cr3t-pq"


def test_access_logins_cannot_be_filtered_on():
    with pytest.raises(Exception):  # noqa: B017 (FieldError: the lookup does not exist)
        list(AccessLogin.objects.filter(password__startswith="s"))


def test_the_admin_never_renders_an_access_login_back(client, admin_user, plan):
    client.force_login(admin_user)
    html = client.get(f"/admin/phone/plan/{plan.pk}/change/").content.decode()
    assert "s3cr3t-pq" not in html and "admin-pq" not in html


@pytest.fixture
def foreign_call(other_pool):
    return Call.objects.create(pool=other_pool, from_number="1", customer_number="+5511912345678")


def test_the_caller_card_of_another_pools_call_is_not_found(agent_client, foreign_call):
    assert agent_client.get(f"/phone/calls/{foreign_call.pk}/card/").status_code == 404


def test_the_wizard_cannot_start_from_another_pools_call(agent_client, foreign_call):
    assert agent_client.post("/phone/intake/start/", {"call": foreign_call.pk}).status_code == 404


def test_the_records_never_list_another_pools_calls(agent_client, foreign_call):
    agent_client.post("/phone/intake/start/", {})
    agent_client.post("/phone/intake/origin/", {"action": "next", "origin": "phone"})
    agent_client.post(
        "/phone/intake/filters/",
        {"action": "list", "mode": "phone", "digits": "11912", "quantity": 10},
    )
    page = agent_client.get("/phone/intake/filters/")
    assert page.context["listed"] == []
    agent_client.post(
        "/phone/intake/filters/", {"action": "next", "mode": "period", "days": 5, "quantity": 10}
    )
    page = agent_client.get("/phone/intake/records/")
    assert list(page.context["calls"]) == []
    response = agent_client.post(
        "/phone/intake/records/", {"action": "next", "call": foreign_call.pk}
    )
    assert response.status_code == 400


def test_a_ticket_cannot_be_opened_in_another_pool(agent_client, caller, other_pool):
    from tickets.models import Ticket

    _to_service(agent_client, caller)
    agent_client.post("/phone/intake/service/", {"action": "next"})
    agent_client.post("/phone/intake/script/", {"action": "next"})
    agent_client.post("/phone/intake/report/", {"action": "next"})
    response = agent_client.post(
        "/phone/intake/first_contact/",
        {
            "action": "create",
            "subject": "x",
            "description": "y",
            "priority": 20,
            "pool": other_pool.pk,
        },
    )
    assert response.status_code == 400
    assert not Ticket.objects.exists()


@pytest.mark.parametrize(
    "url", ["/phone/calls/", "/phone/calls/new/", "/phone/intake/", "/phone/intake/origin/"]
)
def test_customers_do_not_reach_the_phone_desk(client, customer, url):
    from people.services import create_customer_account

    client.force_login(create_customer_account(customer, password="pw-123456789"))
    assert client.get(url).status_code == 404
