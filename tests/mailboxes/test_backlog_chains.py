"""One mailbox's backlog processed by several chains at once, threads kept whole."""

import pytest

from mailboxes import processing, tasks
from mailboxes.ingest import store_raw_messages
from mailboxes.models import Mailbox, RawMessage
from mailboxes.processing import process_next_batch, process_raw_messages
from tests.concurrency import run_at_once
from tests.mailboxes.test_processing import build_mail, make_mailbox
from tickets.models import Ticket

State = RawMessage.State


def _reply(n: int, parent: int) -> bytes:
    return build_mail(
        subject=f"Re: Question {parent}",
        message_id=f"<m{n}@example.test>",
        headers={
            "In-Reply-To": f"<m{parent}@example.test>",
            "References": f"<m{parent}@example.test>",
        },
    ).as_bytes()


def _original(n: int) -> bytes:
    return build_mail(subject=f"Question {n}", message_id=f"<m{n}@example.test>").as_bytes()


def test_a_reply_to_a_reply_that_waits_for_its_original_waits_too_and_joins_the_ticket(
    mailbox,
):
    # The original is stored and new (another batch's, not processed yet); the reply and the
    # reply to the reply (which names only the reply) are in this batch.
    _original_row, reply, second = store_raw_messages(
        mailbox, [("1", _original(1)), ("2", _reply(2, 1)), ("3", _reply(3, 2))]
    )

    process_raw_messages([reply.pk, second.pk])

    rows = RawMessage.objects.order_by("pk")
    assert [raw.state for raw in rows] == [State.PROCESSED] * 3
    assert Ticket.objects.count() == 1, "the reply to the reply opened no ticket of its own"
    assert {raw.ticket_id for raw in rows} == {Ticket.objects.get().pk}


def test_next_batch_takes_the_oldest_new_mail_and_a_chain_ends_when_none_is_left(mailbox):
    size = processing.BATCH_SIZE
    store_raw_messages(mailbox, [(str(n), _original(n)) for n in range(size + 20)])
    RawMessage.objects.filter(uid="0").update(state=State.FAILED)  # retried by the sweep only

    claimed = [process_next_batch(mailbox.pk) for _ in range(4)]

    assert claimed == [size, 19, 0, 0]
    assert RawMessage.objects.filter(state=State.PROCESSED).count() == size + 19
    assert Ticket.objects.count() == size + 19


def _parent(n: int) -> int:
    """Half the replies answer the reply before them, the others an original."""
    return n - 3 if n >= 5 and n % 2 else n - 1


@pytest.mark.django_db(transaction=True)
def test_two_chains_on_one_backlog_process_each_mail_once_and_thread_every_reply(pool, caplog):
    mailbox = make_mailbox(pool)
    Mailbox.objects.filter(pk=mailbox.pk).update(auto_reply=False)
    # Replies to earlier mails and to earlier replies, across the batches of the two chains.
    mails = []
    for n in range(160):
        if n % 3 == 2:
            mails.append((str(n), _reply(n, _parent(n))))
        else:
            mails.append((str(n), _original(n)))
    store_raw_messages(mailbox, mails)

    def chain():
        while process_next_batch(mailbox.pk):
            pass

    run_at_once([chain, chain])

    originals = sum(1 for n in range(160) if n % 3 != 2)
    assert RawMessage.objects.filter(state=State.PROCESSED).count() == 160
    assert set(RawMessage.objects.values_list("attempts", flat=True)) <= {1, 2}
    assert Ticket.objects.count() == originals, "every reply joined its original's ticket"
    by_id = dict(RawMessage.objects.values_list("message_id", "ticket_id"))
    for n in range(160):
        if n % 3 == 2:
            assert by_id[f"<m{n}@example.test>"] == by_id[f"<m{_parent(n)}@example.test>"]


def test_spare_chains_are_sent_at_the_lowest_priority(
    mailbox, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.MAIL_PROCESS_CHAINS = 3
    sent = []
    monkeypatch.setattr(
        tasks.process_mailbox_backlog_task,
        "apply_async",
        lambda args, **options: sent.append((args, options.get("priority"))),
    )
    monkeypatch.setattr(
        tasks.process_mailbox_backlog_task, "delay", lambda *args: sent.append((args, None))
    )

    with django_capture_on_commit_callbacks(execute=True):
        tasks.start_backlog_chains(mailbox.pk)

    assert sorted(sent, key=str) == sorted(
        [((mailbox.pk, None), None), ((mailbox.pk, 9), 9), ((mailbox.pk, 9), 9)], key=str
    )


def _sent_backlog_jobs(monkeypatch) -> list:
    sent: list = []
    monkeypatch.setattr(
        tasks.process_mailbox_backlog_task,
        "apply_async",
        lambda args, **options: sent.append((tuple(args), options.get("priority"))),
    )
    monkeypatch.setattr(
        tasks.process_mailbox_backlog_task, "delay", lambda *args: sent.append((args, None))
    )
    monkeypatch.setattr(
        tasks.process_raw_messages_task, "delay", lambda *args: sent.append(("ids", args))
    )
    return sent


def test_a_flood_starts_its_first_chain_while_the_fetch_goes_on(
    mailbox, monkeypatch, settings, django_capture_on_commit_callbacks
):
    settings.MAIL_PROCESS_CHAINS = 2
    sent = _sent_backlog_jobs(monkeypatch)
    batcher = tasks._Batcher(mailbox.pk, size=3)

    # The fetch hands each id over once its chunk is committed: each step runs its hooks.
    with django_capture_on_commit_callbacks(execute=True):
        for pk in (1, 2):
            batcher.add(pk)
    assert sent == [], "less than a batch stored: nothing queued yet"
    with django_capture_on_commit_callbacks(execute=True):
        batcher.add(3)
    assert sent == [((mailbox.pk, None), None)], "the first chain, before the fetch ends"
    with django_capture_on_commit_callbacks(execute=True):
        for pk in range(4, 11):
            batcher.add(pk)
    assert len(sent) == 1, "one chain while the fetch goes on"
    with django_capture_on_commit_callbacks(execute=True):
        batcher.flush()

    assert sent == [((mailbox.pk, None), None), ((mailbox.pk, 9), 9)], "then the spare chain"


def test_the_end_of_a_flood_gets_a_chain_even_when_only_one_is_configured(
    mailbox, monkeypatch, settings, django_capture_on_commit_callbacks
):
    # The first chain may have run dry before the fetch ended: the rest is not stranded.
    settings.MAIL_PROCESS_CHAINS = 1
    sent = _sent_backlog_jobs(monkeypatch)
    batcher = tasks._Batcher(mailbox.pk, size=2)

    with django_capture_on_commit_callbacks(execute=True):
        for pk in (1, 2, 3):
            batcher.add(pk)
        batcher.flush()

    assert sent == [((mailbox.pk, None), None), ((mailbox.pk, 9), 9)]


@pytest.mark.parametrize(("stored", "expected"), [(0, []), (2, [("ids", ([1, 2],))])])
def test_a_short_fetch_is_one_job(
    mailbox, monkeypatch, settings, django_capture_on_commit_callbacks, stored, expected
):
    sent = _sent_backlog_jobs(monkeypatch)
    batcher = tasks._Batcher(mailbox.pk, size=3)

    with django_capture_on_commit_callbacks(execute=True):
        for pk in range(1, stored + 1):
            batcher.add(pk)
        batcher.flush()

    assert sent == expected
