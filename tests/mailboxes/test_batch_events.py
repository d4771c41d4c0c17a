"""A mail batch's domain events: SLA deadlines and notifications as one by one, set-based."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

import sla.services
from mailboxes.models import NotificationRule, OutgoingEmail, RawMessage
from mailboxes.processing import process_raw_messages
from people.models import Skill
from sla.models import Deadline, SlaPolicy
from tests.mailboxes.test_processing import build_mail, make_mailbox, store_raw
from tests.sla.conftest import make_calendar
from tickets import signals
from tickets.models import ActivityLog, Ticket

# Monday 2026-06-01, 10:00 in Warsaw: inside working hours.
MONDAY_10 = datetime(2026, 6, 1, 10, 0, tzinfo=ZoneInfo("Europe/Warsaw"))
Event = NotificationRule.Event


@pytest.fixture
def mailbox(pool):
    return make_mailbox(pool)


@pytest.fixture
def policy(db):
    calendar = make_calendar("Warsaw office", "Europe/Warsaw", country="PL")
    return SlaPolicy.objects.create(
        name="Standard", calendar=calendar, first_response_minutes=120,
        next_response_minutes=240, resolution_minutes=1080, reminder_before=30,
    )  # fmt: skip


def _rules_on():
    """Realistic rules: the customer's messages go to the assignee, new tickets to the pool."""
    NotificationRule.objects.filter(event=Event.CUSTOMER_MESSAGE, pool=None).update(
        enabled=True, to_assignee=True
    )
    NotificationRule.objects.filter(event=Event.TICKET_OPENED, pool=None).update(
        enabled=True, to_pool_members=True
    )


def _mail(tag, n, *, reply_to=None, subject="Question"):
    headers = {"In-Reply-To": f"<{tag}-{reply_to}@example.test>"} if reply_to is not None else {}
    sender = n if reply_to is None else reply_to  # a reply comes from the ticket's customer
    return build_mail(
        sender=f"Customer {sender} <c{sender}@example.test>",
        subject=f"{'Re: ' if reply_to is not None else ''}{subject} {n}",
        message_id=f"<{tag}-{n}@example.test>",
        headers=headers,
    )


def _day(mailbox, tag, process, run):
    """Earlier two tickets (one an invoice, routed to the agent), then the day's mail.

    ``process`` runs the domain events after each commit itself.
    """
    with time_machine.travel(MONDAY_10, tick=False):
        for n, subject in ((0, "Fatura em duplicidade"), (1, "Question")):
            run(process_raw_messages, [store_raw(mailbox, _mail(tag, n, subject=subject)).pk])
        today = [
            _mail(tag, 10, reply_to=0),  # to the assignee
            _mail(tag, 11, reply_to=1),  # nobody has the ticket: nobody to tell
            _mail(tag, 12, subject="Fatura em duplicidade"),
            _mail(tag, 13),
            _mail(tag, 14),
        ]
        raws = [store_raw(mailbox, mail) for mail in today]
        process([raw.pk for raw in raws])
    rows = []
    for ticket in Ticket.objects.filter(raw_messages__mailbox=mailbox).distinct().order_by("pk"):
        if not ticket.messages.order_by("pk").first().message_id.startswith(f"<{tag}-"):
            continue
        rows.append(
            (
                ticket.subject.split()[-1],
                ticket.status,
                ticket.assignee_id,
                ticket.due_at,
                sorted(
                    Deadline.objects.filter(ticket=ticket).values_list(
                        "target", "state", "due_at", "remind_at", "policy__name"
                    )
                ),
                ActivityLog.objects.filter(
                    ticket=ticket, action=ActivityLog.Action.SLA_POLICY
                ).count(),
                sorted(
                    (tuple(o.to), o.body_text.splitlines()[0])
                    for o in ticket.outgoing_emails.filter(kind=OutgoingEmail.Kind.NOTIFICATION)
                ),
            )
        )
    return sorted(rows)


def test_a_batch_gives_the_same_deadlines_and_notifications_as_one_by_one(
    mailbox, pool, agent, policy, django_capture_on_commit_callbacks
):
    _rules_on()
    agent.agent_profile.skills.add(Skill.objects.create(name="Invoices", keywords="duplicidade"))

    def run(call, *args):
        with django_capture_on_commit_callbacks(execute=True):
            call(*args)

    def one_by_one(ids):
        for pk in ids:
            with django_capture_on_commit_callbacks(execute=True):
                process_raw_messages([pk])[0]

    alone = _day(mailbox, "a", one_by_one, run)
    together = _day(mailbox, "b", lambda ids: run(process_raw_messages, ids), run)

    assert together == alone
    assert RawMessage.objects.filter(state=RawMessage.State.PROCESSED).count() == 14
    by_number = {row[0]: row for row in together}
    # Every new ticket has its deadlines, its policy logged once and a due time.
    assert all(row[3] is not None and row[5] == 1 for row in together)
    assert {d[0] for d in by_number["12"][4]} == {"first_response", "resolution"}
    # Each new ticket told the pool once; the reply told ticket 0's assignee once more
    # (ticket 1 has nobody); a ticket's first message is no "customer wrote".
    assert [len(by_number[n][6]) for n in ("0", "1", "12", "13", "14")] == [2, 1, 1, 1, 1]
    assert by_number["0"][2] == agent.pk
    customer_wrote = OutgoingEmail.objects.filter(subject__contains="Customer wrote")
    assert customer_wrote.count() == 2  # the reply to ticket 0, once each way


def _new_mails(mailbox, start, count):
    return [store_raw(mailbox, _mail("q", n)).pk for n in range(start, start + count)]


def test_a_batch_with_its_sla_and_notification_receivers_costs_the_same_for_ten_or_forty_mails(
    mailbox, policy, django_capture_on_commit_callbacks
):
    replies_to = [store_raw(mailbox, _mail("q", n)).pk for n in range(900, 940)]
    with django_capture_on_commit_callbacks(execute=True):
        process_raw_messages(replies_to)  # the year's counter, and tickets to reply to
    counts = []
    for start, count in ((0, 10), (100, 40)):
        ids = _new_mails(mailbox, start, count // 2)
        ids += [
            store_raw(mailbox, _mail("q", 1000 + start + n, reply_to=900 + n)).pk
            for n in range(count // 2)
        ]
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            process_raw_messages(ids)
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 43  # 43: suppressed addresses, one query
    assert Deadline.objects.count() == 2 * Ticket.objects.count() == 2 * 65
    assert not Ticket.objects.filter(due_at__isnull=True).exists()


def test_a_failing_batch_policy_falls_back_to_each_ticket_alone(
    mailbox, policy, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    def broken(ticket_ids, **kwargs):
        raise RuntimeError("policies unavailable")

    monkeypatch.setattr(sla.services, "apply_policies", broken)
    with django_capture_on_commit_callbacks(execute=True):
        process_raw_messages(_new_mails(mailbox, 0, 5))
    assert "sla.batch_failed" in caplog.text
    assert Deadline.objects.count() == 10
    assert not Ticket.objects.filter(due_at__isnull=True).exists()


def test_each_event_of_a_batch_still_reaches_receivers_that_are_not_batch_aware(
    mailbox, django_capture_on_commit_callbacks
):
    heard = []

    def receiver(sender, ticket, batched=False, **kwargs):
        heard.append(batched)

    signals.ticket_created.connect(receiver, dispatch_uid="test-not-batch-aware")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            process_raw_messages(_new_mails(mailbox, 0, 3))
    finally:
        signals.ticket_created.disconnect(dispatch_uid="test-not-batch-aware")
    assert heard == [True, True, True]


def test_a_routed_ticket_of_a_batch_is_taken_with_its_clocks_and_its_notification(
    mailbox, agent, policy, django_capture_on_commit_callbacks
):
    NotificationRule.objects.filter(event=Event.TICKET_TAKEN, pool=None).update(
        enabled=True, to_assignee=True, to_requester=False
    )
    agent.agent_profile.skills.add(Skill.objects.create(name="Invoices", keywords="duplicidade"))
    heard = []

    def receiver(sender, ticket, before, after, batched=False, **kwargs):
        heard.append((before, after, batched))

    signals.status_changed.connect(receiver, dispatch_uid="test-routed-status")
    try:
        with (
            time_machine.travel(MONDAY_10, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            process_raw_messages(
                [store_raw(mailbox, _mail("r", 1, subject="Fatura em duplicidade")).pk]
            )
    finally:
        signals.status_changed.disconnect(dispatch_uid="test-routed-status")
    ticket = Ticket.objects.get()
    assert (ticket.status, ticket.assignee_id) == ("taken", agent.pk)
    assert heard == [("new", "taken", True)]
    # The SLA skipped that event (apply_policies saw the ticket taken); its clocks run.
    assert sorted(Deadline.objects.values_list("target", "state")) == [
        ("first_response", "running"),
        ("resolution", "running"),
    ]
    assert ticket.due_at == datetime(2026, 6, 1, 12, 0, tzinfo=ZoneInfo("Europe/Warsaw"))
    # The "ticket taken" notification has no batch event: it still goes out per ticket.
    taken = OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.NOTIFICATION)
    assert [row.to for row in taken] == [["agent@helpdesk.test"]]
