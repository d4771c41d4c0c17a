"""Only agents who may see a chat ticket can make its widget visitor read "… is typing":
anyone else's signal is refused exactly like a ticket that does not exist, and publishes
nothing (a stranger must not be able to poke a customer's chat, nor learn ticket numbers)."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from live.models import LiveEvent
from tickets.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _database_live_backend(settings):
    settings.LIVE_REDIS_URL = ""
    cache.clear()


@pytest.fixture
def typing_url(visitor, run_on_commit):
    run_on_commit(visitor.send, "Hello?")
    LiveEvent.objects.all().delete()
    return reverse("chat:agent_typing", args=[Ticket.objects.get().number])


def _published():
    return LiveEvent.objects.filter(event="chat.agent_typing").count()


def test_an_agent_of_another_pool_gets_not_found(typing_url, client, other_agent, run_on_commit):
    client.force_login(other_agent)

    response = run_on_commit(client.post, typing_url)

    assert response.status_code == 404
    assert _published() == 0


def test_a_customer_with_a_portal_login_gets_not_found(
    typing_url, client, customer_user, run_on_commit
):
    client.force_login(customer_user)

    assert run_on_commit(client.post, typing_url).status_code == 404
    assert _published() == 0


def test_nobody_signed_in_is_sent_to_sign_in(typing_url, client, run_on_commit):
    response = run_on_commit(client.post, typing_url)

    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert _published() == 0


def test_a_post_without_the_csrf_token_is_refused(typing_url, agent, run_on_commit):
    from django.test import Client

    checked = Client(enforce_csrf_checks=True)
    checked.force_login(agent)

    assert run_on_commit(checked.post, typing_url).status_code == 403
    assert _published() == 0


def test_a_supervisor_may_send_it(typing_url, client, supervisor, run_on_commit):
    client.force_login(supervisor)

    assert run_on_commit(client.post, typing_url).status_code == 204
    assert _published() == 1
