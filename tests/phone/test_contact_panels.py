from phone.models import Call
from tests.factories import TicketFactory


def test_the_contact_page_lists_the_calls_of_my_pools_and_the_plans(
    agent_client, pool, other_pool, caller, plan
):
    ticket = TicketFactory(pool=pool, requester=caller)
    Call.objects.create(
        pool=pool, from_number="x", customer_number="+5511987654321", contact=caller, ticket=ticket
    )
    Call.objects.create(
        pool=other_pool, from_number="x", customer_number="+5511987650000", contact=caller
    )
    html = agent_client.get(f"/tickets/contacts/{caller.pk}/").content.decode()
    assert 'id="contact-panel-calls"' in html and ticket.number in html
    assert "+55 11 98765-4321" in html and "+55 11 98765-0000" not in html
    assert 'id="contact-panel-plans"' in html and "Fiber 500" in html


def test_the_requester_card_shows_the_plans_but_not_the_calls(agent_client, pool, caller, plan):
    ticket = TicketFactory(pool=pool, requester=caller)
    Call.objects.create(
        pool=pool, from_number="x", customer_number="+5511987654321", contact=caller
    )
    html = agent_client.get(f"/tickets/{ticket.number}/").content.decode()
    assert 'id="contact-panel-plans"' in html and "Fiber 500" in html
    assert 'id="contact-panel-calls"' not in html
