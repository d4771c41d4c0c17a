"""The ticket events become live events on the ticket's topic and its pool's; presence is
published when it changes, not when it is only refreshed."""

import pytest
from django.utils import timezone

from live.models import LiveEvent
from live.tasks import prune_live_events_task
from tickets.models import TicketPresence
from tickets.services import add_customer_message, change_status, create_ticket, mark_presence
from tickets.states import Status

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _database_backend(settings):
    settings.LIVE_REDIS_URL = ""


def _events():
    return [(e.topic, e.event) for e in LiveEvent.objects.order_by("id")]


def test_a_new_ticket_and_its_customer_message_reach_its_pool_and_its_page(pool, customer):
    ticket = create_ticket(subject="Printer", pool=pool, requester=customer)
    add_customer_message(ticket, contact=customer, body_text="It jams.")
    events = _events()
    for topic in (f"pool:{pool.pk}", f"ticket:{ticket.number}"):
        assert (topic, "ticket.created") in events
        assert (topic, "ticket.message") in events
    created = LiveEvent.objects.filter(event="ticket.created").first()
    # Numbers and states only: the page fetches the rest through its own access checks.
    assert "Printer" not in created.data
    assert f'"number":"{ticket.number}"' in created.data


def test_a_status_change_is_published(pool, customer, agent):
    ticket = create_ticket(subject="Printer", pool=pool, requester=customer)
    LiveEvent.objects.all().delete()
    change_status(ticket, to=Status.IN_PROGRESS, actor=agent)
    assert (f"ticket:{ticket.number}", "ticket.status") in _events()
    assert (f"pool:{pool.pk}", "ticket.status") in _events()


def test_presence_is_published_when_it_changes_not_when_refreshed(pool, customer, agent):
    ticket = create_ticket(subject="Printer", pool=pool, requester=customer)
    LiveEvent.objects.all().delete()
    mark_presence(ticket, user=agent)
    mark_presence(ticket, user=agent)  # a refresh
    assert _events() == [(f"ticket:{ticket.number}", "ticket.presence")]
    mark_presence(ticket, user=agent, is_replying=True)
    assert len(_events()) == 2
    # A mark gone stale counts as new again.
    TicketPresence.objects.update(seen_at=timezone.now() - timezone.timedelta(minutes=5))
    mark_presence(ticket, user=agent, is_replying=True)
    assert len(_events()) == 3


def test_pruning_deletes_only_old_events(settings):
    settings.LIVE_KEEP_SECONDS = 60
    LiveEvent.objects.create(topic="pool:1", event="ticket.created", data="{}")
    LiveEvent.objects.create(
        topic="pool:1",
        event="ticket.created",
        data="{}",
        created_at=timezone.now() - timezone.timedelta(minutes=5),
    )
    assert prune_live_events_task() == 1
    assert LiveEvent.objects.count() == 1
