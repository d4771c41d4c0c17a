"""The New ticket page, the requester autocomplete and the contact page (issue 13)."""

from django.urls import reverse

from mailboxes.models import OutgoingEmail
from people.models import Contact, ContactPhone
from tests.factories import ContactFactory, TicketFactory, make_mailbox
from tickets.models import ActivityLog, Message, Ticket
from tickets.states import Channel, Status


def _post(client, **fields):
    data = {
        "channel": Channel.PHONE,
        "subject": "No dial tone",
        "description": "Customer called: no dial tone since 8:00.",
        "priority": "",
    }
    data.update(fields)
    return client.post(reverse("tickets:new"), data)


def test_the_queue_has_a_new_ticket_button(agent_client):
    page = agent_client.get(reverse("tickets:queue")).content.decode()
    assert reverse("tickets:new") in page


def test_the_form_offers_only_the_agents_pools(agent_client, pool, other_pool):
    page = agent_client.get(reverse("tickets:new")).content.decode()
    pools = page[page.index('name="pool"') :].split("</select>")[0]
    assert f'value="{pool.pk}"' in pools
    assert f'value="{other_pool.pk}"' not in pools


def test_an_agent_opens_a_phone_ticket_for_a_found_contact(agent_client, agent, pool, customer):
    response = _post(agent_client, requester=customer.pk, pool=pool.pk)
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response.url == ticket.get_absolute_url()
    assert (ticket.requester, ticket.channel) == (customer, Channel.PHONE)
    assert ticket.activity.get(action=ActivityLog.Action.CREATED).actor == agent


def test_an_agent_opens_a_ticket_for_a_new_contact(agent_client, pool):
    response = _post(
        agent_client,
        pool=pool.pk,
        channel=Channel.WALK_IN,
        new_name="Nina Nova",
        new_email="nina@example.test",
        new_phone="11 3333-4444",
        new_language="pt-br",
    )
    assert response.status_code == 302
    contact = Contact.objects.get(name="Nina Nova")
    assert (contact.language, contact.primary_email) == ("pt-br", "nina@example.test")
    assert Ticket.objects.get().requester == contact


def test_the_form_wants_a_contact(agent_client, pool):
    response = _post(agent_client, pool=pool.pk)
    assert response.status_code == 400
    assert "Choose a contact or add a new one." in response.content.decode()
    assert not Ticket.objects.exists()


def test_an_outbound_email_ticket_from_the_form_queues_the_first_mail(agent_client, pool, customer):
    make_mailbox(pool)
    response = _post(
        agent_client,
        requester=customer.pk,
        pool=pool.pk,
        channel=Channel.OUTBOUND_EMAIL,
        subject="Your contract",
        description="Hello, here is your contract.",
    )
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.messages.get().kind == Message.Kind.OUTBOUND
    assert OutgoingEmail.objects.get().to == [customer.primary_email]


def test_the_form_shows_the_contact_it_was_opened_for(agent_client, customer):
    page = agent_client.get(reverse("tickets:new"), {"contact": customer.pk}).content.decode()
    assert f'name="requester" value="{customer.pk}" checked' in page


def test_the_autocomplete_finds_by_name_address_and_phone(agent_client, customer):
    ContactPhone.objects.create(contact=customer, number="+55 11 91234-5678")
    ContactFactory(name="Somebody Else")
    for query in ("carla", customer.primary_email, "91234"):
        page = agent_client.get(reverse("tickets:contact_search"), {"q": query}).content.decode()
        assert "Carla Cliente" in page, query
        assert "Somebody Else" not in page


def test_the_autocomplete_counts_open_tickets_of_the_agents_pools(
    agent_client, pool, other_pool, customer
):
    TicketFactory(pool=pool, requester=customer, status=Status.NEW)
    TicketFactory(pool=other_pool, requester=customer, status=Status.NEW)
    TicketFactory(pool=other_pool, requester=customer, status=Status.NEW)
    page = agent_client.get(reverse("tickets:contact_search"), {"q": "carla"}).content.decode()
    assert "1 open" in page
    assert "3 open" not in page and "2 open" not in page


def test_the_ticket_page_shows_the_requester_card(agent_client, pool, customer):
    ContactPhone.objects.create(contact=customer, number="+48 600 100 200")
    ticket = TicketFactory(pool=pool, requester=customer, status=Status.NEW)
    older = TicketFactory(pool=pool, requester=customer, status=Status.CLOSED)
    other_open = TicketFactory(pool=pool, requester=customer, status=Status.IN_PROGRESS)
    page = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert 'id="requester-card"' in page
    assert "+48 600 100 200" in page
    assert customer.primary_email in page
    card = page[page.index('id="requester-card"') :]
    assert card.index(other_open.number) < card.index(older.number)  # open first
    assert "1 open" in card and "2 in all" in card
    assert ticket.number not in card.split('id="other-tickets"')[1].split("</ul>")[0]


def test_the_contact_page_lists_their_tickets_open_first(agent_client, pool, customer):
    closed = TicketFactory(pool=pool, requester=customer, status=Status.CLOSED)
    opened = TicketFactory(pool=pool, requester=customer, status=Status.NEW)
    response = agent_client.get(reverse("tickets:contact", args=[customer.pk]))
    page = response.content.decode()
    assert response.status_code == 200
    assert page.index(opened.number) < page.index(closed.number)
    assert "1 open" in page and "2 in all" in page


def test_the_contact_page_query_count_does_not_grow_with_tickets(
    agent_client, pool, customer, django_assert_max_num_queries
):
    for _ in range(40):
        TicketFactory(pool=pool, requester=customer)
    with django_assert_max_num_queries(14):
        agent_client.get(reverse("tickets:contact", args=[customer.pk]))
