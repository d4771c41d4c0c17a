"""Agents choose which events mail them (off, at once, digest); the away's mail goes to the
substitute; the default no longer mails every new ticket to every pool member."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mailboxes.digests import send_due_digests
from mailboxes.models import (
    NotificationPreference,
    NotificationRule,
    OutgoingEmail,
    PendingNotification,
)
from mailboxes.notifications import Notice, notify
from people.models import Absence
from tests.conftest import _agent
from tickets import services
from tickets.services import portal

Event = NotificationRule.Event
Topic = NotificationPreference.Topic
UTC = ZoneInfo("UTC")
MONDAY_10 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)


@pytest.fixture
def run(django_capture_on_commit_callbacks, eager_tasks):
    def do(change, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return change(*args, **kwargs)

    return do


@pytest.fixture
def frozen():
    with time_machine.travel(MONDAY_10, tick=False) as traveller:
        yield traveller


@pytest.fixture
def bruno(pool):
    user = _agent("bruno", pools=[pool])
    user.first_name, user.last_name = "Bruno", "Lima"
    user.save()
    return user


def _to(user) -> list[OutgoingEmail]:
    return list(OutgoingEmail.objects.filter(to=[user.email]).order_by("pk"))


def _choose(user, **choices):
    NotificationPreference.objects.update_or_create(user=user, defaults=choices)


def _opened(pool, customer, subject="Printer"):
    # Opened with its first message, so a later one is a reply.
    return portal.open_ticket_from_portal(
        contact=customer, actor=None, subject=subject, description="It broke.", pool=pool
    )


def _ticket(pool, customer, agent, run, subject="Printer"):
    ticket = run(_opened, pool, customer, subject)
    return run(services.assign_ticket, ticket, agent=agent, actor=agent)


# --- what triggers each topic --------------------------------------------------------------


def _assigned(pool, customer, agent, supervisor, run):
    ticket = run(services.create_ticket, subject="Printer", pool=pool, requester=customer)
    run(services.assign_ticket, ticket, agent=agent, actor=supervisor)


def _customer_replied(pool, customer, agent, supervisor, run):
    ticket = _ticket(pool, customer, agent, run)
    run(portal.reply_from_portal, ticket, contact=customer, body="Any news?")


def _mentioned(pool, customer, agent, supervisor, run):
    ticket = run(services.create_ticket, subject="Printer", pool=pool, requester=customer)
    run(services.add_note, ticket, author=supervisor, body="@agent can you look? cc boss@x.test")


def _new_ticket(pool, customer, agent, supervisor, run):
    run(services.create_ticket, subject="Printer", pool=pool, requester=customer)


TRIGGERS = {
    Topic.ASSIGNED: _assigned,
    Topic.CUSTOMER_REPLIED: _customer_replied,
    Topic.MENTION: _mentioned,
    Topic.NEW_TICKET: _new_ticket,
}


@pytest.mark.parametrize("topic", list(TRIGGERS))
@pytest.mark.parametrize("delivery", ["off", "immediate", "digest"])
def test_each_topic_mails_at_once_goes_to_the_digest_or_is_off_as_chosen(
    topic, delivery, pool, customer, agent, supervisor, run, frozen
):
    _choose(agent, **{topic: delivery})
    TRIGGERS[topic](pool, customer, agent, supervisor, run)
    mails = _to(agent)
    pending = list(PendingNotification.objects.filter(user=agent))
    if delivery == "off":
        assert (mails, pending) == ([], [])
    elif delivery == "immediate":
        assert len(mails) == 1 and pending == []
        assert mails[0].internal and not mails[0].reply_to
        assert "/tickets/" in mails[0].body_text
    else:
        assert mails == []
        assert [row.topic for row in pending] == [topic]


def test_the_defaults_mail_assignment_replies_and_mentions_but_not_new_tickets(
    pool, customer, agent, supervisor, run
):
    for trigger in TRIGGERS.values():
        trigger(pool, customer, agent, supervisor, run)
    subjects = [mail.subject.split(":")[0] for mail in _to(agent)]
    assert "New ticket in my pools" not in subjects
    assert {"Ticket assigned to me", "Customer wrote", "Mentioned in an internal note"} <= set(
        subjects
    )


def test_by_default_a_new_ticket_is_not_mailed_to_every_pool_member(
    pool, customer, agent, bruno, run
):
    # Even the rule that names the pool's members: their own choice (off) decides.
    NotificationRule.objects.filter(event=Event.TICKET_OPENED, pool=None).update(
        enabled=True, to_pool_members=True
    )
    run(services.create_ticket, subject="Printer", pool=pool, requester=customer)
    assert OutgoingEmail.objects.filter(internal=True).count() == 0
    _choose(bruno, new_ticket="immediate")
    run(services.create_ticket, subject="Scanner", pool=pool, requester=customer)
    assert [mail.to for mail in OutgoingEmail.objects.filter(internal=True)] == [[bruno.email]]


def test_a_mention_by_full_name_in_quotes_reaches_only_agents_who_see_the_ticket(
    pool, other_pool, customer, supervisor, bruno, run
):
    outsider = _agent("olga", pools=[other_pool])
    outsider.first_name, outsider.last_name = "Olga", "Other"
    outsider.save()
    ticket = run(services.create_ticket, subject="Printer", pool=pool, requester=customer)
    run(
        services.add_note,
        ticket,
        author=supervisor,
        body='Ask @"bruno  lima" and @olga; not mail@bruno.test',
    )
    assert len(_to(bruno)) == 1
    assert "Ask @" in _to(bruno)[0].body_text
    assert _to(outsider) == []


# --- absences ------------------------------------------------------------------------------


def test_an_absent_agents_mail_goes_to_the_substitute(
    pool, customer, agent, bruno, supervisor, run, make_absence, frozen
):
    make_absence(agent, substitute=bruno)
    _choose(agent, customer_replied="digest")  # digest or not: the substitute gets it now
    ticket = _ticket(pool, customer, agent, run)
    run(portal.reply_from_portal, ticket, contact=customer, body="Any news?")
    assert _to(agent) == []
    [mail] = _to(bruno)
    assert "you stand in for Agent" in mail.body_text
    assert "Any news?" in mail.body_text
    assert not PendingNotification.objects.exists()


def test_a_substitute_who_is_away_too_hands_the_mail_on_to_their_own_substitute(
    pool, customer, agent, bruno, run, make_absence, frozen
):
    carla = _agent("carla", pools=[pool])
    make_absence(agent, substitute=bruno)
    make_absence(bruno, substitute=carla)
    ticket = _ticket(pool, customer, agent, run)
    run(portal.reply_from_portal, ticket, contact=customer, body="Any news?")
    assert _to(agent) == [] and _to(bruno) == []
    [mail] = _to(carla)
    assert "you stand in for Agent" in mail.body_text


def test_substitutes_who_stand_in_for_each_other_while_both_away_reach_nobody(
    pool, customer, agent, bruno, run, make_absence, frozen
):
    make_absence(agent, substitute=bruno)
    make_absence(bruno, substitute=agent)
    ticket = _ticket(pool, customer, agent, run)
    run(portal.reply_from_portal, ticket, contact=customer, body="Any news?")
    assert _to(agent) == [] and _to(bruno) == []


def test_an_absence_not_yet_approved_changes_nothing(
    pool, customer, agent, bruno, run, make_absence, frozen
):
    absence = make_absence(agent, substitute=bruno)
    Absence.objects.filter(pk=absence.pk).update(state=Absence.State.REQUESTED)
    ticket = _ticket(pool, customer, agent, run)
    run(portal.reply_from_portal, ticket, contact=customer, body="Any news?")
    assert len(_to(agent)) == 1
    assert _to(bruno) == []


def test_an_absence_that_is_over_changes_nothing(
    pool, customer, agent, bruno, run, make_absence, frozen
):
    make_absence(
        agent,
        substitute=bruno,
        starts_at=MONDAY_10 - timedelta(days=3),
        ends_at=MONDAY_10 - timedelta(days=1),
    )
    ticket = _ticket(pool, customer, agent, run)
    run(portal.reply_from_portal, ticket, contact=customer, body="Any news?")
    assert len(_to(agent)) == 1 and _to(bruno) == []


def test_an_absent_agent_without_substitute_is_mailed_nothing(
    pool, customer, agent, run, make_absence, frozen
):
    make_absence(agent)
    ticket = _ticket(pool, customer, agent, run)
    run(portal.reply_from_portal, ticket, contact=customer, body="Any news?")
    assert OutgoingEmail.objects.filter(internal=True).count() == 0


# --- digests -------------------------------------------------------------------------------


def test_the_daily_digest_lists_the_items_once_at_eight_in_the_agents_zone(
    pool, customer, agent, supervisor, run
):
    agent.agent_profile.time_zone = "America/Sao_Paulo"  # 08:00 there is 11:00 UTC
    agent.agent_profile.save()
    _choose(agent, assigned="digest", customer_replied="digest")
    with time_machine.travel(MONDAY_10, tick=False):  # 07:00 in São Paulo
        ticket = run(_opened, pool, customer)
        run(services.assign_ticket, ticket, agent=agent, actor=supervisor)
        run(portal.reply_from_portal, ticket, contact=customer, body="Any news?")
        assert send_due_digests() == 0
    assert PendingNotification.objects.unsent().count() == 2
    with time_machine.travel(MONDAY_10 + timedelta(minutes=59), tick=False):
        assert send_due_digests() == 0  # 07:59 in São Paulo
    with time_machine.travel(MONDAY_10 + timedelta(minutes=65), tick=False):
        assert [send_due_digests(), send_due_digests()] == [1, 0]
    [digest] = _to(agent)
    assert digest.subject == "Your digest: 2 notifications"
    assert digest.body_text.count(f": {ticket.number} — Printer") == 2
    assert "Any news?" in digest.body_text
    assert f"/tickets/{ticket.number}/" in digest.body_text
    assert digest.internal and digest.ticket is None
    assert set(PendingNotification.objects.values_list("outgoing", flat=True)) == {digest.pk}
    # What comes after 08:00 waits for the next day's.
    with time_machine.travel(MONDAY_10 + timedelta(hours=2), tick=False):
        run(portal.reply_from_portal, ticket, contact=customer, body="Hello?")
    with time_machine.travel(MONDAY_10 + timedelta(hours=24, minutes=59), tick=False):
        assert send_due_digests() == 0
    with time_machine.travel(MONDAY_10 + timedelta(hours=25, minutes=1), tick=False):
        assert send_due_digests() == 1
    assert [mail.subject for mail in _to(agent)][1] == "Your digest: 1 notification"


def test_an_hourly_digest_goes_after_the_hour_turns(pool, customer, agent, supervisor, run):
    _choose(agent, assigned="digest", digest_period="hourly")
    with time_machine.travel(MONDAY_10 + timedelta(minutes=10), tick=False):
        _assigned(pool, customer, agent, supervisor, run)
    with time_machine.travel(MONDAY_10 + timedelta(minutes=59), tick=False):
        assert send_due_digests() == 0
    with time_machine.travel(MONDAY_10 + timedelta(minutes=61), tick=False):
        assert send_due_digests() == 1
        assert send_due_digests() == 0
    assert len(_to(agent)) == 1


def test_a_digest_claimed_by_one_run_is_not_sent_by_another(pool, customer, agent, supervisor, run):
    from mailboxes.digests import send_digest

    _choose(agent, assigned="digest")
    with time_machine.travel(MONDAY_10, tick=False):
        _assigned(pool, customer, agent, supervisor, run)
    later = MONDAY_10 + timedelta(days=1)
    with time_machine.travel(later, tick=False):
        first = send_digest(agent, before=later)
        second = send_digest(agent, before=later)  # a second worker with the same list
    assert first is not None and second is None
    assert len(_to(agent)) == 1


def test_the_digest_of_an_agent_who_is_now_away_goes_to_the_substitute(
    pool, customer, agent, bruno, supervisor, run, make_absence
):
    _choose(agent, assigned="digest")
    with time_machine.travel(MONDAY_10, tick=False):
        _assigned(pool, customer, agent, supervisor, run)
    with time_machine.travel(MONDAY_10 + timedelta(days=1), tick=False):
        make_absence(agent, substitute=bruno)
        assert send_due_digests() == 1
    assert _to(agent) == []
    assert "you stand in for Agent" in _to(bruno)[0].body_text


# --- set-based -----------------------------------------------------------------------------


def _queries_for(n, pool, customer, shapes):
    tickets = [_opened(pool, customer, f"T{i}") for i in range(n)]
    for i, ticket in enumerate(tickets):
        ticket.assignee, ticket.manager = shapes[i % len(shapes)]
        ticket.save(update_fields=["assignee", "manager"])
    OutgoingEmail.objects.all().delete()
    PendingNotification.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        rows = notify(Event.CUSTOMER_MESSAGE, [Notice(t, message_text="Hi") for t in tickets])
    return len(queries), rows


@pytest.mark.parametrize("burst", [0, 5])
def test_notify_reads_choices_and_absences_in_the_same_queries_for_1_or_20_tickets(
    pool, customer, bruno, make_absence, frozen, settings, burst
):
    # Each ticket: its technician wants it in the digest; its manager (named by the rule)
    # is away, so their substitute gets it at once.
    NotificationRule.objects.filter(event=Event.CUSTOMER_MESSAGE, pool=None).update(
        enabled=True, to_manager=True, to_assignee=False
    )
    technicians = [_agent(name, pools=[pool]) for name in ("dora", "emil")]
    managers = [_agent(name, pools=[pool]) for name in ("fred", "gina")]
    for technician in technicians:
        _choose(technician, customer_replied="digest")
    make_absence(managers[0], substitute=bruno)
    make_absence(managers[1], substitute=technicians[0])
    shapes = list(zip(technicians, managers, strict=True))
    one, rows = _queries_for(1, pool, customer, shapes)
    assert [row.to for row in rows] == [[bruno.email]]
    settings.NOTIFICATION_BURST_SIZE = burst
    twenty, rows = _queries_for(20, pool, customer, shapes)
    assert twenty <= one
    # Folded, each substitute's 10 (bruno for fred, dora for gina) are one mail listing them.
    assert len(rows) == (2 if burst else 20)
    assert PendingNotification.objects.count() == 20


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True)
def test_two_digest_runs_at_once_send_each_digest_once(pool, customer, supervisor):
    from tests.concurrency import run_at_once
    from tests.conftest import require_postgresql

    require_postgresql()
    agents = [_agent(f"digest{i}", pools=[pool]) for i in range(6)]
    with time_machine.travel(MONDAY_10, tick=False):
        for user in agents:
            _choose(user, assigned="digest", digest_period="hourly")
            ticket = services.create_ticket(subject="Printer", pool=pool, requester=customer)
            services.assign_ticket(ticket, agent=user, actor=supervisor)
    assert PendingNotification.objects.count() == 6
    with time_machine.travel(MONDAY_10 + timedelta(hours=1, minutes=1), tick=False):
        results = run_at_once([send_due_digests, send_due_digests])
    assert sum(results) == 6
    for user in agents:
        assert len(_to(user)) == 1
