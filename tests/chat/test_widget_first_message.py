"""A visitor's first message (issue 15): what the request itself does, what it leaves to the
worker, and that the agents hear it before anything else after commit."""

import pytest
from celery.app.task import Task
from django.db import connection
from django.test.utils import CaptureQueriesContext

from chat.models import ChatChannel
from live.models import LiveEvent
from mailboxes.models import NotificationPreference, OutgoingEmail
from reports.models import TicketFact
from tickets.models import Ticket

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("database_live_backend")]


@pytest.fixture
def jobs(monkeypatch):
    """The Celery jobs sent, by task name, kept instead of sent."""
    sent: list[tuple[str, tuple]] = []

    def keep(task, args=(), kwargs=None, **options):
        sent.append((task.name, tuple(args)))

    monkeypatch.setattr(Task, "apply_async", keep)
    monkeypatch.setattr(Task, "delay", lambda task, *args: keep(task, args))
    return sent


@pytest.mark.parametrize("hearing", [True, False])
def test_a_first_message_leaves_the_notifications_and_report_facts_to_the_worker(
    visitor, jobs, django_capture_on_commit_callbacks, agent, hearing
):
    if hearing:  # a member of the pool chose to hear of new tickets (off by default)
        NotificationPreference.objects.create(
            user=agent, new_ticket=NotificationPreference.Delivery.IMMEDIATE
        )
    visitor.config()  # the stamp; the channel is read here
    with (
        CaptureQueriesContext(connection) as queries,
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert visitor.send("Where is my parcel?").status_code == 201

    ticket = Ticket.objects.get()
    names = [name for name, _args in jobs]
    # With nobody to tell, no notification job at all (mailboxes.notifications.
    # anyone_hears_of_opened).
    notified = ("mailboxes.tasks.notify_tickets_opened_task", ([ticket.pk], None)) in jobs
    assert notified is hearing
    assert ("reports.tasks.refresh_facts_task", ([ticket.pk],)) in jobs
    # The new ticket's search document once; its first line queues no window of its own.
    assert names.count("tickets.tasks.index_tickets_task") == 1
    assert not TicketFact.objects.exists()  # the worker writes it
    # Contact, conversation, ticket (topics, number, row, message, 2 log rows; here 3 more
    # for the year's first number), the conversation and chat rows, the greeting; the
    # answer's rows; after commit the SLA's policy check, the notification rule, 3 webhook
    # lookups, the live events (3 INSERTs with the table backend, none with Redis). The
    # "ticket opened" notification and the report facts were 18 more before issue 15.
    # Plus 2: whether anybody hears of the new ticket (the rule, the members' choices).
    assert len(queries) <= 29


def test_the_worker_notifies_and_writes_the_facts_of_a_new_chat(
    visitor, run_on_commit, agent, pool
):
    NotificationPreference.objects.create(
        user=agent, new_ticket=NotificationPreference.Delivery.IMMEDIATE
    )

    run_on_commit(visitor.send, "Where is my parcel?")

    ticket = Ticket.objects.get()
    assert TicketFact.objects.get(ticket=ticket).open
    told = OutgoingEmail.objects.filter(ticket=ticket, internal=True)
    assert [agent.email in row.to for row in told] == [True]


def test_the_agents_hear_the_line_before_the_ticket_events(visitor, run_on_commit):
    """``chat.message`` is sent first after commit: the agent's inbox does not wait for
    the receivers of the ticket events (notifications, SLA, webhooks...)."""
    run_on_commit(visitor.send, "Where is my parcel?")
    run_on_commit(visitor.send, "It was due Monday")

    events = list(LiveEvent.objects.order_by("pk").values_list("event", flat=True))
    assert events[:3] == ["chat.message"] * 3
    assert events.index("ticket.created") > 2
    assert events[events.index("ticket.created") :].count("chat.message") >= 3


def test_a_channel_changed_in_admin_is_read_again_at_once(visitor, widget_channel):
    assert visitor.config().status_code == 200

    widget_channel.active = False
    widget_channel.save()

    assert visitor.config().status_code == 404


def test_a_channel_is_read_once_for_many_requests(visitor, widget_channel):
    visitor.config()
    with CaptureQueriesContext(connection) as queries:
        visitor.config()
    assert not [q for q in queries if ChatChannel._meta.db_table in q["sql"].split("FROM")[1]]


def test_with_the_broker_down_a_new_chat_is_still_notified_and_counted(
    visitor, agent, monkeypatch, django_capture_on_commit_callbacks
):
    """A job that cannot be queued is done in the request, as before (no sweep finds it)."""
    NotificationPreference.objects.create(
        user=agent, new_ticket=NotificationPreference.Delivery.IMMEDIATE
    )
    visitor.config()

    def down(task, *args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(Task, "apply_async", down)
    monkeypatch.setattr(Task, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        assert visitor.send("Where is my parcel?").status_code == 201

    ticket = Ticket.objects.get()
    assert TicketFact.objects.filter(ticket=ticket).exists()
    told = OutgoingEmail.objects.filter(ticket=ticket, internal=True)
    assert [agent.email in row.to for row in told] == [True]
