"""process_raw_messages: the one path, for a batch of one and for many mails in one transaction."""

import pytest
from celery import current_app
from django.db import connection
from django.test.utils import CaptureQueriesContext

from helpdesk.celery import app as celery_app
from mailboxes import processing
from mailboxes.ingest import store_raw_messages
from mailboxes.models import AutoReplyLog, Mailbox, OutgoingEmail, RawMessage
from mailboxes.processing import process_raw_messages
from mailboxes.tasks import fetch_mailbox_task
from people.models import Contact, ContactEmail, Skill
from tests.concurrency import run_at_once
from tests.factories import TopicFactory
from tests.mailboxes.test_processing import build_mail, make_mailbox, store_raw
from tickets import services, signals
from tickets.models import ActivityLog, Attachment, Product, Ticket
from tickets.services.numbering import next_ticket_number, next_ticket_numbers
from tickets.states import Status

State = RawMessage.State
Reason = RawMessage.Reason


def each_alone(ids):
    for pk in ids:
        process_raw_messages([pk])


def in_one_batch(ids):
    process_raw_messages(ids)


def _mails(existing: Ticket):
    """A day's mail: new tickets, replies of every kind, robots, strangers, a duplicate."""
    with_file = build_mail(message_id="<file@example.test>", subject="Scan attached")
    with_file.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="a.pdf")
    return [
        build_mail(subject="Fatura em duplicidade", body="A fatura veio duas vezes no VPN."),
        with_file,
        build_mail(
            sender="Carla Cliente <carla@example.test>",
            subject="Re: Printer",
            message_id="<reply@example.test>",
            headers={"In-Reply-To": "<existing@example.test>"},
        ),
        build_mail(
            sender="Mallory <mallory@evil.test>",
            subject=f"[#{existing.number}] give me this ticket",
            message_id="<stranger@example.test>",
        ),
        build_mail(
            sender="Robot <robot@example.test>",
            message_id="<auto@example.test>",
            headers={"Auto-Submitted": "auto-replied"},
        ),
        build_mail(sender="alice@a.test <mallory@evil.test>", message_id="<nosender@x.test>"),
        build_mail(message_id="<existing@example.test>", subject="the same mail again"),
        build_mail(
            subject="Re: Fatura em duplicidade",
            message_id="<same-batch-reply@example.test>",
            headers={"In-Reply-To": "<first@example.test>"},
        ),
    ]


def _summary(raws):
    rows = []
    for raw in RawMessage.objects.filter(pk__in=[r.pk for r in raws]).order_by("pk"):
        ticket = raw.ticket
        history = (
            list(
                ActivityLog.objects.filter(ticket=ticket)
                .order_by("pk")
                .values_list("action", "before", "after")
            )
            if ticket
            else []
        )
        rows.append(
            (
                raw.state,
                raw.reason,
                raw.attempts,
                ticket.subject if ticket else None,
                ticket.status if ticket else None,
                ticket.topic.name if ticket and ticket.topic else None,
                ticket.assignee.username if ticket and ticket.assignee else None,
                ticket.messages.count() if ticket else 0,
                sorted(a.filename for a in Attachment.objects.filter(message=raw.ticket_message)),
                [
                    (action, before, after)
                    for action, before, after in history
                    if action != "created"
                ],
                sorted(
                    (o.kind, tuple(o.to), o.in_reply_to, o.references, o.state)
                    # The customer's side; the agents' own notifications (the routed
                    # tickets' "assigned to me") are test_notification_preferences'.
                    for o in (ticket.outgoing_emails.filter(internal=False) if ticket else ())
                ),
            )
        )
    return rows


@pytest.mark.parametrize("process", [each_alone, in_one_batch])
def test_every_mail_ends_as_expected_processed_alone_and_in_a_batch(
    process, mailbox, pool, agent, django_capture_on_commit_callbacks
):
    TopicFactory(name="Billing", keywords="fatura", default_priority=30)
    Product.objects.create(name="VPN", keywords="vpn")
    skill = Skill.objects.create(name="Invoices", keywords="duplicidade")
    agent.agent_profile.skills.add(skill)
    existing = services.create_ticket(
        subject="Printer",
        pool=pool,
        requester=Contact.objects.create(name="Carla"),
    )
    ContactEmail.objects.create(contact=existing.requester, address="carla@example.test")
    services.add_customer_message(
        existing, contact=existing.requester, body_text="hi", message_id="<existing@example.test>"
    )
    services.change_status(existing, to=Status.IN_PROGRESS, actor=agent)
    services.change_status(existing, to=Status.RESOLVED, actor=agent)
    raws = [store_raw(mailbox, mail) for mail in _mails(existing)]
    created, added = [], []

    def on_created(sender, tickets, **kwargs):
        created.extend(ticket.pk for ticket in tickets)

    def on_added(sender, messages, **kwargs):
        added.extend(message.pk for message in messages)

    signals.tickets_created.connect(on_created)
    signals.messages_added.connect(on_added)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            process([raw.pk for raw in raws])
    finally:
        signals.tickets_created.disconnect(on_created)
        signals.messages_added.disconnect(on_added)

    summary = _summary(raws)
    assert [row[:2] for row in summary] == [
        (State.PROCESSED, Reason.NONE),
        (State.PROCESSED, Reason.NONE),
        (State.PROCESSED, Reason.NONE),
        (State.PROCESSED, Reason.NONE),
        (State.IGNORED, Reason.AUTO_REPLY),
        (State.IGNORED, Reason.NO_SENDER),
        (State.IGNORED, Reason.DUPLICATE),
        (State.PROCESSED, Reason.NONE),
    ]
    assert all(row[2] == 1 for row in summary)
    first, scan, reply, stranger, *_ignored, same_batch_reply = summary
    assert first[3:9] == ("Fatura em duplicidade", Status.TAKEN, "Billing", agent.username, 2, [])
    assert [row[0] for row in first[9]] == [
        "customer_message",
        "topic",
        "priority",
        "product",
        "classified",
        "routed",
        "assigned",
        "status",
        "customer_message",
    ]
    thread = "<first@example.test>"
    assert first[10] == [("auto_reply", ("carla@example.test",), thread, thread, "queued")]
    assert scan[3:9] == ("Scan attached", Status.NEW, None, None, 1, ["a.pdf"])
    assert [row[1] for row in scan[10]] == [("carla@example.test",)]
    assert [row[1] for row in stranger[10]] == [("mallory@evil.test",)]
    assert reply[10] == [], "no auto-reply on a reply"
    assert [row[0] for row in scan[9]] == ["customer_message", "classified", "routed"]
    # The closed ticket reopens; the stranger gets a linked ticket of their own.
    assert reply[3:5] == ("Printer", Status.IN_PROGRESS)
    assert ("reopened", "", "") in reply[9]
    assert stranger[3] == "give me this ticket"
    assert same_batch_reply[3] == "Fatura em duplicidade"
    # Each event once, after commit, for what was made.
    assert len(created) == 3 == Ticket.objects.count() - 1
    made = [raw.ticket_message_id for raw in RawMessage.objects.filter(state=State.PROCESSED)]
    assert sorted(added) == sorted(made)


def _new_mails(mailbox, count, start=0):
    return [
        store_raw(
            mailbox,
            build_mail(
                sender=f"Customer {n} <c{n}@example.test>",
                subject=f"Question {n}",
                message_id=f"<q{n}@example.test>",
            ),
        )
        for n in range(start, start + count)
    ]


def test_a_batch_costs_the_same_queries_for_ten_mails_as_for_forty(mailbox, caplog):
    # Auto-replies on: each new ticket is acknowledged, still in a fixed number of queries.
    process_raw_messages([raw.pk for raw in _new_mails(mailbox, 1, 1000)])  # the year's counter
    counts = []
    for start, count in ((0, 10), (100, 40)):
        raws = _new_mails(mailbox, count, start)
        with CaptureQueriesContext(connection) as queries:
            process_raw_messages([raw.pk for raw in raws])
        counts.append(len(queries))
    # 18 for the mail, plus one: the SLA's active policies for the out-of-hours text of
    # the auto-replies, read once per batch (the domain events run after commit, not here),
    # plus one: the suppressed addresses among the auto-replies' recipients, plus one: the
    # rows read back as they ended, for the caller, plus two: the savepoint pair of
    # receive_customer_messages (plain transaction.atomic) inside the batch's transaction.
    assert counts[0] == counts[1] <= 23
    assert OutgoingEmail.objects.count() == 51
    assert RawMessage.objects.filter(state=State.PROCESSED).count() == 51
    assert Ticket.objects.count() == 51
    assert "batch_failed" not in caplog.text


def test_a_message_that_cannot_be_read_fails_alone_and_the_others_are_processed(mailbox):
    raws = _new_mails(mailbox, 3)
    raws[1].file.storage.delete(raws[1].file.name)

    process_raw_messages([raw.pk for raw in raws])

    states = dict(RawMessage.objects.values_list("pk", "state"))
    assert [states[raw.pk] for raw in raws] == [State.PROCESSED, State.FAILED, State.PROCESSED]
    failed = RawMessage.objects.get(pk=raws[1].pk)
    assert failed.error
    assert failed.attempts == 1
    assert Ticket.objects.count() == 2


def test_a_batch_that_fails_is_rolled_back_and_each_mail_retried_as_a_batch_of_one(
    mailbox, monkeypatch
):
    raws = _new_mails(mailbox, 4)
    real = processing.receive_customer_messages

    def fails_for_a_batch(mails):
        real(mails)
        if len(mails) > 1:
            raise RuntimeError("the database went away mid-batch")

    monkeypatch.setattr(processing, "receive_customer_messages", fails_for_a_batch)

    process_raw_messages([raw.pk for raw in raws])

    assert RawMessage.objects.filter(state=State.PROCESSED).count() == 4
    assert Ticket.objects.count() == 4, "nothing of the failed batch was kept"
    assert list(RawMessage.objects.values_list("attempts", flat=True)) == [1, 1, 1, 1]


def test_a_reply_processed_before_its_stored_original_waits_and_is_threaded(mailbox):
    reply_mail = build_mail(
        subject="Re: Printer on fire",
        message_id="<second@example.test>",
        headers={"In-Reply-To": "<first@example.test>"},
    )
    # Stored as a fetch stores them: the row carries the mail's Message-ID.
    original, reply = store_raw_messages(
        mailbox, [("1", build_mail().as_bytes()), ("2", reply_mail.as_bytes())]
    )

    process_raw_messages([reply.pk])

    original.refresh_from_db()
    reply.refresh_from_db()
    assert original.state == reply.state == State.PROCESSED
    assert reply.ticket == original.ticket
    assert Ticket.objects.count() == 1


def test_processing_a_batch_twice_changes_nothing_the_second_time(mailbox):
    raws = _new_mails(mailbox, 3)
    process_raw_messages([raw.pk for raw in raws])
    process_raw_messages([raw.pk for raw in raws])
    assert Ticket.objects.count() == 3
    assert set(RawMessage.objects.values_list("attempts", flat=True)) == {1}


def test_stored_in_one_chunk_duplicates_by_uid_or_message_id_are_dropped(mailbox, settings):
    first = build_mail(message_id="<one@example.test>").as_bytes()
    other = build_mail(message_id="<two@example.test>", subject="Other").as_bytes()
    store_raw_messages(mailbox, [("1", first)])

    stored = store_raw_messages(mailbox, [("1", first), ("2", first), ("3", other), ("4", other)])

    assert [raw is not None for raw in stored] == [False, False, True, False]
    assert sorted(RawMessage.objects.values_list("uid", flat=True)) == ["1", "3"]
    files = sorted(p.name for p in (settings.MEDIA_ROOT / "raw").rglob("*.eml"))
    assert len(files) == 2, "the duplicates' files are removed again"


def test_ticket_numbers_reserved_as_a_block_are_consecutive_and_never_reused(db):
    single = next_ticket_number()
    block = next_ticket_numbers(3)
    after = next_ticket_number()
    numbers = [single, *block, after]
    assert [int(n.split("-")[1]) for n in numbers] == list(
        range(int(single.split("-")[1]), int(single.split("-")[1]) + 5)
    )


@pytest.fixture
def eager_tasks():
    # Tasks run in-process right after commit, as a worker would, only sooner. Shared tasks
    # go to the current app, which another test's probe app may have become.
    previous_app, previous = current_app._get_current_object(), celery_app.conf.task_always_eager
    celery_app.set_current()
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = previous
    previous_app.set_current()


@pytest.mark.django_db(transaction=True)
def test_a_fetch_hands_its_mail_to_batch_tasks_that_process_all_of_it(
    pool, tmp_path, eager_tasks, monkeypatch, settings
):
    size = processing.BATCH_SIZE
    settings.MAIL_FETCH_MAX_PER_RUN = size + 20  # one fetch takes it all
    root = tmp_path / "Maildir"
    for name in ("new", "cur", "tmp"):
        (root / name).mkdir(parents=True)
    for n in range(size + 20):
        mail = build_mail(subject=f"Question {n}", message_id=f"<q{n}@example.test>")
        (root / "new" / f"{n:04d}").write_bytes(mail.as_bytes())
    mailbox = Mailbox.objects.create(
        name="Local",
        kind=Mailbox.Kind.MAILDIR,
        pool=pool,
        from_address="support@helpdesk.test",
        maildir_path=str(root),
        auto_reply=False,
    )
    batches = []
    real = processing._process
    monkeypatch.setattr(
        processing,
        "_process",
        lambda raws, waits, **kwargs: batches.append(raws) or real(raws, waits, **kwargs),
    )

    fetch_mailbox_task(mailbox.pk)

    # The first chain starts as soon as a batch is stored. Run eagerly it works inside the
    # fetch, before the next chunk is stored, so it runs dry at once (its claim finds
    # nothing); the spare chain started at the end of the fetch takes the rest.
    assert [len(raws) for raws in batches] == [size, 0, 20, 0]
    assert RawMessage.objects.filter(state=State.PROCESSED).count() == size + 20
    assert Ticket.objects.count() == size + 20


@pytest.mark.django_db(transaction=True)
def test_two_workers_on_overlapping_batches_make_one_ticket_per_mail_and_one_contact(pool, caplog):
    mailbox = make_mailbox(pool)
    Mailbox.objects.filter(pk=mailbox.pk).update(auto_reply=False)
    # One new sender in every mail, so both batches create the same contact at once.
    raws = [
        store_raw(
            mailbox,
            build_mail(
                sender="New Person <new@example.test>",
                subject=f"Question {n}",
                message_id=f"<q{n}@example.test>",
            ),
        )
        for n in range(12)
    ]
    ids = [raw.pk for raw in raws]

    run_at_once(
        [
            lambda: process_raw_messages(ids[:8]),
            lambda: process_raw_messages(ids[4:]),
            lambda: process_raw_messages(ids[::-1]),
        ]
    )

    assert RawMessage.objects.filter(state=State.PROCESSED).count() == 12
    assert set(RawMessage.objects.values_list("attempts", flat=True)) == {1}
    assert Ticket.objects.count() == 12
    assert Contact.objects.count() == 1
    assert ContactEmail.objects.get().address == "new@example.test"
    assert "batch_failed" not in caplog.text, "no batch had to fall back to one by one"


@pytest.mark.parametrize("process", [each_alone, in_one_batch])
def test_a_batch_keeps_the_hourly_auto_reply_limit_and_never_answers_itself(
    process, mailbox, pool, settings
):
    settings.AUTO_REPLY_LIMIT_PER_HOUR = 3
    AutoReplyLog.objects.create(address="busy@example.test")
    mails = [
        build_mail(sender="Busy <busy@example.test>", subject=f"Q{n}", message_id=f"<b{n}@x.test>")
        for n in range(4)
    ]
    mails.append(
        build_mail(sender="Us <support+x@helpdesk.test>", subject="Loop", message_id="<l@x.test>")
    )
    raws = [store_raw(mailbox, mail) for mail in mails]

    process([raw.pk for raw in raws])

    assert Ticket.objects.count() == 4, "our own address is ignored, not a ticket"
    assert OutgoingEmail.objects.filter(to=["busy@example.test"]).count() == 2
    assert AutoReplyLog.objects.filter(address="busy@example.test").count() == 3
    assert not OutgoingEmail.objects.exclude(to=["busy@example.test"]).exists()


def _original(mailbox, n):
    return store_raw(
        mailbox,
        build_mail(
            sender=f"Customer {n} <c{n}@example.test>",
            subject=f"Question {n}",
            message_id=f"<q{n}@example.test>",
        ),
    )


def _outsider_reply(mailbox, n):
    return store_raw(
        mailbox,
        build_mail(
            sender=f"Someone Else <someone-else-{n}@example.org>",
            subject=f"Re: Question {n}",
            message_id=f"<o{n}@example.org>",
            headers={"In-Reply-To": f"<q{n}@example.test>"},
        ),
    )


def test_a_reply_from_a_non_participant_becomes_a_linked_ticket_in_the_batch_without_a_second_parse(
    mailbox, monkeypatch, caplog
):
    original = process_raw_messages([_original(mailbox, 1).pk])[0]
    parsed = []
    real_parse = processing.parse_message
    monkeypatch.setattr(
        processing, "parse_message", lambda data: parsed.append(1) or real_parse(data)
    )
    raws = [_outsider_reply(mailbox, 1), _original(mailbox, 2), _outsider_reply(mailbox, 2)]

    outsider, new, same_batch_outsider = process_raw_messages([raw.pk for raw in raws])

    assert len(parsed) == 3, "each mail parsed once, in the batch"
    assert "batch_failed" not in caplog.text
    assert [raw.state for raw in (outsider, new, same_batch_outsider)] == [State.PROCESSED] * 3
    for raw, other in ((outsider, original.ticket), (same_batch_outsider, new.ticket)):
        ticket = raw.ticket
        assert ticket not in (original.ticket, new.ticket), "a ticket of their own"
        assert list(ticket.linked_tickets.all()) == [other]
        assert list(other.linked_tickets.all()) == [ticket]
        assert ticket.subject.startswith("Re: Question")
        for one, two in ((ticket, other), (other, ticket)):
            assert ActivityLog.objects.filter(
                ticket=one, action=ActivityLog.Action.LINKED, after=two.number
            ).exists()
    assert original.ticket.messages.count() == 1, "nothing added to the other ticket"


def test_non_participant_replies_cost_the_same_queries_per_mail_as_the_rest(mailbox):
    Mailbox.objects.filter(pk=mailbox.pk).update(auto_reply=False)
    process_raw_messages([_original(mailbox, n).pk for n in range(100)])
    counts = {}
    for kind, start, count in (("new", 200, 10), ("new", 300, 40)):
        raws = [_original(mailbox, n) for n in range(start, start + count)]
        with CaptureQueriesContext(connection) as queries:
            process_raw_messages([raw.pk for raw in raws])
        counts[kind, count] = len(queries)
    for start, count in ((0, 10), (10, 40)):
        raws = [_outsider_reply(mailbox, n) for n in range(start, start + count)]
        with CaptureQueriesContext(connection) as queries:
            ended = process_raw_messages([raw.pk for raw in raws])
        counts["outsider", count] = len(queries)
        assert all(raw.ticket.linked_tickets.count() == 1 for raw in ended)
    print(f"queries: {counts}")
    assert counts["new", 10] == counts["new", 40]
    # Per outsider mail: only the consulted-department hook (is it an awaited answer?),
    # asked for each such mail; everything else is one statement per batch.
    per_mail = (counts["outsider", 40] - counts["outsider", 10]) / 30
    assert per_mail <= 1
    # Per batch: 7 (participants, links already there, links, their activity rows, ...),
    # plus 4: link_tickets' savepoint pair (plain transaction.atomic) and the rows logged
    # before the links written first, apart from the rest, so history keeps its order.
    assert counts["outsider", 10] - counts["new", 10] <= 10 + 11
