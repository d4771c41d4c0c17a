from phone.models import Call


def test_an_agent_logs_a_call_by_hand(agent_client, agent, pool, caller):
    response = agent_client.post(
        "/phone/calls/new/",
        {
            "direction": "in",
            "number": "+55 11 98765-4321",
            "pool": pool.pk,
            "notes": "Asked for a visit",
        },
    )
    assert response.status_code == 302
    call = Call.objects.get()
    assert call.agent == agent and call.contact == caller and call.integration is None
    assert call.state == Call.State.ENDED
    assert agent_client.get("/phone/calls/").status_code == 200


def test_a_call_cannot_be_logged_in_someone_elses_pool(agent_client, other_pool):
    response = agent_client.post(
        "/phone/calls/new/", {"direction": "in", "number": "11987654321", "pool": other_pool.pk}
    )
    assert response.status_code == 400
    assert not Call.objects.exists()


def test_an_unreadable_number_is_refused(agent_client, pool):
    response = agent_client.post(
        "/phone/calls/new/", {"direction": "in", "number": "12", "pool": pool.pk}
    )
    assert response.status_code == 400
    assert not Call.objects.exists()


def test_the_call_list_shows_only_my_pools(
    agent_client, pool, other_pool, django_assert_max_num_queries
):
    Call.objects.create(pool=pool, from_number="1", customer_number="+5511987654321")
    Call.objects.create(pool=other_pool, from_number="2", customer_number="+5511900000000")
    with django_assert_max_num_queries(8):
        response = agent_client.get("/phone/calls/")
    rows = list(response.context["rows"])
    assert [call.pool for call in rows] == [pool]


def test_the_caller_card_shows_the_callers_open_tickets_of_my_pools(
    agent_client, pool, other_pool, caller, django_assert_max_num_queries
):
    from tests.factories import TicketFactory

    TicketFactory(pool=pool, requester=caller, subject="Mine to see")
    TicketFactory(pool=other_pool, requester=caller, subject="Not for this agent")
    call = Call.objects.create(
        pool=pool, from_number="x", customer_number="+5511987654321", contact=caller
    )
    with django_assert_max_num_queries(8):
        response = agent_client.get(f"/phone/calls/{call.pk}/card/")
    html = response.content.decode()
    assert caller.name in html and "Mine to see" in html and "Not for this agent" not in html
    assert f'name="call" value="{call.pk}"' in html


def test_the_caller_card_of_an_unknown_number_says_so(agent_client, pool):
    call = Call.objects.create(pool=pool, from_number="x", customer_number="+5511900000000")
    assert (
        "Unidentified customer"
        in agent_client.get(f"/phone/calls/{call.pk}/card/").content.decode()
    )
