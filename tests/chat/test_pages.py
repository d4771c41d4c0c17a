"""The inbox side of chats: the thread on the ticket page, the queue's channel, admin."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from chat.models import ChatChannel, ChatMessage
from tests.chat.fixtures import APP_SECRET, META_TOKEN, VERIFY_TOKEN
from tests.chat.test_whatsapp import status, text, webhook
from tests.factories import TicketFactory
from tests.tickets.test_query_counts import TICKET_PAGE_QUERIES
from tickets.models import Ticket
from tickets.services import add_note, add_reply

pytestmark = pytest.mark.django_db

# The chat thread's platform records and channel, and the WhatsApp window's conversation.
CHAT_PAGE_QUERIES = TICKET_PAGE_QUERIES + 3


@pytest.fixture
def ticket(post_hook, whatsapp_channel):
    post_hook(whatsapp_channel, webhook([text("Meu pedido não chegou")]))
    return Ticket.objects.get()


def _count(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_the_ticket_page_shows_the_chat_as_bubbles_with_delivery_state(
    ticket, agent, agent_client, whatsapp_channel, post_hook, run_on_commit
):
    reply = run_on_commit(add_reply, ticket, author=agent, body="Vou verificar agora.")
    wamid = ChatMessage.objects.get(message=reply).platform_message_id
    post_hook(whatsapp_channel, webhook(statuses=[status(wamid, "read")]))
    add_note(ticket, author=agent, body="Checked the carrier")

    page = agent_client.get(ticket.get_absolute_url()).content.decode()

    assert 'id="chat-thread"' in page
    assert "bi-whatsapp" in page
    assert page.index("Meu pedido não chegou") < page.index("Vou verificar agora.")
    assert 'class="chat-bubble chat-bubble-in' in page
    assert 'class="chat-bubble chat-bubble-out' in page
    assert 'class="chat-bubble chat-bubble-note' in page
    assert "chat-state-read" in page
    assert "<time datetime=" in page


def test_a_mail_ticket_keeps_the_mail_thread(agent_client, pool):
    ticket = TicketFactory(pool=pool)

    page = agent_client.get(ticket.get_absolute_url()).content.decode()

    assert 'id="chat-thread"' not in page


def test_the_chat_page_costs_a_fixed_number_of_queries(ticket, agent, agent_client, run_on_commit):
    url = ticket.get_absolute_url()
    run_on_commit(add_reply, ticket, author=agent, body="one")
    few = _count(agent_client, url)
    for i in range(15):
        run_on_commit(add_reply, ticket, author=agent, body=f"reply {i}")
    many = _count(agent_client, url)

    assert few == many <= CHAT_PAGE_QUERIES


def test_the_queue_shows_each_ticket_channel_and_filters_on_it(ticket, agent_client, pool):
    mail_ticket = TicketFactory(pool=pool, subject="Mail ticket")
    url = reverse("tickets:queue")

    everything = agent_client.get(url, {"tab": "waiting"}).content.decode()
    chats = agent_client.get(url, {"tab": "waiting", "channel": "whatsapp"}).content.decode()

    assert "bi-whatsapp" in everything and "bi-envelope" in everything
    assert ticket.number in chats
    assert mail_ticket.number not in chats


def test_an_unknown_channel_filter_is_refused_not_passed_on(agent_client):
    response = agent_client.get(reverse("tickets:queue"), {"channel": "password__startswith"})
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


# --- admin ------------------------------------------------------------------------------


def test_admin_never_shows_a_channel_secret_and_keeps_it_when_left_empty(
    client, admin_user, whatsapp_channel
):
    client.force_login(admin_user)
    url = reverse("admin:chat_chatchannel_change", args=[whatsapp_channel.pk])

    page = client.get(url).content.decode()
    for secret in (META_TOKEN, APP_SECRET, VERIFY_TOKEN):
        assert secret not in page
    assert reverse("chat:webhook", args=["whatsapp", whatsapp_channel.public_key]) in page

    form = {
        "name": "WhatsApp BR",
        "kind": "whatsapp",
        "pool": whatsapp_channel.pool_id,
        "active": "on",
        "reopen_closed": "on",
        "api_base_url": whatsapp_channel.api_base_url,
        "api_version": "v21.0",
        "account_id": whatsapp_channel.account_id,
        "access_token": "",
        "app_secret": "new-app-secret",
        "webhook_secret": "",
        "texts-TOTAL_FORMS": "1",
        "texts-INITIAL_FORMS": "0",
        "texts-0-language": "pt-br",
        "texts-0-greeting": "Olá! Já vamos responder.",
        "texts-0-out_of_hours_text": "",
    }
    response = client.post(url, form)

    assert response.status_code == 302, response.content.decode()[:2000]
    whatsapp_channel.refresh_from_db()
    assert whatsapp_channel.name == "WhatsApp BR"
    assert whatsapp_channel.access_token == META_TOKEN  # kept
    assert whatsapp_channel.webhook_secret == VERIFY_TOKEN  # kept
    assert whatsapp_channel.app_secret == "new-app-secret"  # replaced
    assert whatsapp_channel.text_for("pt-br")[0] == "Olá! Já vamos responder."


def test_the_secrets_are_encrypted_in_the_database(whatsapp_channel):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, app_secret FROM chat_chatchannel WHERE id = %s",
            [whatsapp_channel.pk],
        )
        stored = cursor.fetchone()
    assert META_TOKEN not in stored[0] and APP_SECRET not in stored[1]
    assert ChatChannel.objects.get().access_token == META_TOKEN


def test_the_thread_alone_is_served_for_live_refreshes(ticket, agent_client):
    response = agent_client.get(reverse("chat:thread", args=[ticket.number]))

    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div class="chat-thread')
    assert "Meu pedido não chegou" in body


def test_a_mail_ticket_has_no_chat_thread(agent_client, pool):
    ticket = TicketFactory(pool=pool)
    assert agent_client.get(reverse("chat:thread", args=[ticket.number])).status_code == 404


def test_a_chat_ticket_an_agent_opened_without_a_conversation_is_still_mailed(agent, pool):
    from mailboxes.models import OutgoingEmail

    ticket = TicketFactory(pool=pool, channel="chat")  # e.g. typed in from another system

    add_reply(ticket, author=agent, body="We answer by mail.")

    assert OutgoingEmail.objects.filter(ticket=ticket).count() == 1


def test_the_live_refresh_of_a_chat_ticket_keeps_the_chat_thread(ticket, agent_client):
    response = agent_client.get(ticket.get_absolute_url(), HTTP_HX_TARGET="thread")

    assert 'id="chat-thread"' in response.content.decode()
