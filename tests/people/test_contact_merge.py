"""Merging a duplicate contact (B) into another (A): everything of B moves to A, B stays as
a pointer, each moved ticket logs it; the same person is then found on every channel."""

import pytest
from django.urls import reverse

from chat.adapters.base import Inbound
from chat.contacts import find_or_create_contact
from chat.inbound import receive
from chat.models import ChatChannel, Conversation
from people.models import Contact, ContactEmail, ContactPhone
from phone.models import Call
from tests.factories import ContactFactory, TicketFactory
from tickets.models import ActivityLog, Ticket
from tickets.services.contact_merge import merge_contacts, merge_preview

pytestmark = pytest.mark.django_db


@pytest.fixture
def whatsapp(pool):
    return ChatChannel.objects.create(name="WA", kind=ChatChannel.Kind.WHATSAPP, pool=pool)


@pytest.fixture
def duplicate(whatsapp):
    """The WhatsApp side of Carla: a contact made by her first chat, with her number."""
    record = receive(
        whatsapp,
        Inbound("5511987654321", "wamid.1", name="Carla", text="Oi", phone="5511987654321"),
    )
    return record.conversation.contact


def test_the_same_number_on_two_channels_is_one_contact(pool, whatsapp, duplicate):
    telegram = ChatChannel.objects.create(name="TG", kind=ChatChannel.Kind.TELEGRAM, pool=pool)

    record = receive(
        telegram, Inbound("777", "1", name="Carla T", text="Hi", phone="+55 (11) 98765-4321")
    )

    assert record.conversation.contact == duplicate
    assert find_or_create_contact(name="?", phone="98765-4321") == duplicate


def test_merging_moves_tickets_addresses_numbers_chats_calls_and_the_portal_login(
    customer, customer_user, duplicate, supervisor, pool
):
    chat_ticket = Ticket.objects.get(requester=duplicate)
    call = Call.objects.create(from_number="+5511987654321", contact=duplicate, pool=pool)
    ContactEmail.objects.create(contact=duplicate, address="carla@work.test", is_primary=True)
    customer_email = customer.emails.get().address

    merge_contacts(duplicate, into=customer, actor=supervisor)

    duplicate.refresh_from_db()
    assert duplicate.merged_into == customer
    assert Ticket.objects.get(pk=chat_ticket.pk).requester == customer
    assert Conversation.objects.get().contact == customer
    assert Call.objects.get(pk=call.pk).contact == customer
    assert sorted(customer.emails.values_list("address", "is_primary")) == sorted(
        [(customer_email, True), ("carla@work.test", False)]
    )
    assert list(customer.phones.values_list("digits", flat=True)) == ["5511987654321"]
    assert Contact.objects.get(pk=customer.pk).user == customer_user
    logged = chat_ticket.activity.get(action=ActivityLog.Action.REQUESTER_MERGED)
    assert logged.actor == supervisor
    assert logged.after == f"{customer.name} ({customer.pk})"


def test_a_portal_login_of_the_duplicate_moves_to_the_kept_contact(customer, supervisor):
    from people.services import create_customer_account

    other = ContactFactory(name="Carla dup")
    login = create_customer_account(other, username="carla2", password="secret-pass-123")

    merge_contacts(other, into=customer, actor=supervisor)

    customer.refresh_from_db()
    other.refresh_from_db()
    assert customer.user == login
    assert other.user is None


def test_a_message_after_the_merge_lands_on_the_kept_contact(
    customer, duplicate, whatsapp, supervisor
):
    merge_contacts(duplicate, into=customer, actor=supervisor)

    record = receive(
        whatsapp, Inbound("5511987654321", "wamid.2", text="Again", phone="5511987654321")
    )

    assert record.ticket.requester == customer


def test_the_preview_counts_what_will_move(customer, duplicate):
    TicketFactory(requester=duplicate)

    moving = {part.label: part.count for part in merge_preview(duplicate, into=customer)}

    assert moving["Tickets"] == 2
    assert moving["Phone numbers"] == 1
    assert moving["Conversations"] == 1


def test_the_confirmation_page_shows_what_moves_and_the_merge_redirects_to_the_kept_contact(
    client, supervisor, customer, duplicate
):
    client.force_login(supervisor)
    pick = client.get(reverse("tickets:contact_merge", args=[customer.pk]), {"q": "Carla"})
    confirm_url = reverse("tickets:contact_merge_confirm", args=[customer.pk, duplicate.pk])
    assert confirm_url in pick.content.decode()

    page = client.get(confirm_url).content.decode()
    assert "Conversations" in page and 'id="confirm-merge"' in page
    assert Contact.objects.get(pk=duplicate.pk).merged_into is None  # a GET changes nothing

    response = client.post(confirm_url)

    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:contact", args=[customer.pk])
    old_page = client.get(reverse("tickets:contact", args=[duplicate.pk]))
    assert old_page["Location"] == reverse("tickets:contact", args=[customer.pk])


def test_a_contact_is_not_merged_into_itself_nor_twice(client, supervisor, customer, duplicate):
    client.force_login(supervisor)
    itself = reverse("tickets:contact_merge_confirm", args=[customer.pk, customer.pk])
    assert client.post(itself).status_code == 400

    merge_contacts(duplicate, into=customer, actor=supervisor)
    again = reverse("tickets:contact_merge_confirm", args=[customer.pk, duplicate.pk])
    response = client.post(again)

    assert response.status_code == 400
    assert 'id="merge-error"' in response.content.decode()


def test_two_portal_logins_are_refused(customer, customer_user, supervisor):
    from django.core.exceptions import ValidationError

    from people.services import create_customer_account

    other = ContactFactory(name="Carla dup")
    create_customer_account(other, username="carla2", password="secret-pass-123")

    with pytest.raises(ValidationError):
        merge_contacts(other, into=customer, actor=supervisor)
    assert Contact.objects.get(pk=other.pk).merged_into is None


def test_merged_contacts_are_not_found_by_the_contact_search(customer, duplicate, supervisor):
    from people.services import find_contacts

    merge_contacts(duplicate, into=customer, actor=supervisor)

    assert list(find_contacts("Carla")) == [customer]
    assert ContactPhone.objects.get().contact == customer


def test_moved_tickets_are_found_by_the_kept_contacts_name(customer, duplicate, supervisor):
    from tickets.search import catch_up, search

    Contact.objects.filter(pk=customer.pk).update(name="Zuzanna Wiśniewska")
    customer.refresh_from_db()
    catch_up()
    chat_ticket = Ticket.objects.get(requester=duplicate)
    assert chat_ticket not in search(Ticket.objects.all(), "Wiśniewska")
    merge_contacts(duplicate, into=customer, actor=supervisor)
    catch_up()
    assert chat_ticket in search(Ticket.objects.all(), "Wiśniewska")
