"""The outbox row: what it says, when it is claimed, how it backs off, and when it gives up."""

import smtplib
from datetime import timedelta

import pytest
from django.core.mail.backends import locmem
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mailboxes import outbound
from mailboxes.models import Mailbox, OutgoingAttachment, OutgoingEmail
from tests.factories import ContactFactory
from tests.mailboxes.smtp_sink import free_port, mailers_for
from tickets import services
from tickets.models import ActivityLog, Message

State = OutgoingEmail.State


@pytest.fixture
def mailbox(pool):
    return Mailbox.objects.create(name="Billing", pool=pool, from_address="billing@acme.test")


@pytest.fixture
def ticket(pool, customer, mailbox):
    ticket = services.create_ticket(subject="Re: RE: Fwd: Refund", pool=pool, requester=customer)
    services.add_customer_message(ticket, contact=customer, body_text="?", message_id="<c1@x>")
    return ticket


@pytest.fixture
def smtp_down(settings):
    settings.MAILERS = mailers_for(free_port())


def _reply(ticket, agent, body="Done."):
    return outbound.queue_reply(services.add_reply(ticket, author=agent, body=body))


def _make_due(outgoing, **fields):
    OutgoingEmail.objects.filter(pk=outgoing.pk).update(
        next_attempt_at=timezone.now() - timedelta(seconds=1), **fields
    )


def test_subject_has_one_re_and_the_tag_once(ticket, agent):
    outgoing = _reply(ticket, agent)
    assert outgoing.subject == f"Re: Refund [#{ticket.number}]"
    ticket.subject = f"Re: Refund [#{ticket.number}]"
    assert outbound.reply_subject(ticket) == f"Re: Refund [#{ticket.number}]"


def test_queue_reply_is_idempotent_and_stores_our_message_id_on_the_message(ticket, agent):
    message = services.add_reply(ticket, author=agent, body="Done.")
    first = outbound.queue_reply(message)
    assert outbound.queue_reply(message) == first
    assert OutgoingEmail.objects.count() == 1
    message.refresh_from_db()
    assert message.message_id == first.message_id
    assert first.message_id.startswith("<") and first.message_id.endswith("@acme.test>")


def test_references_follow_the_thread_and_stay_bounded(ticket, agent, customer):
    for number in range(30):
        services.add_customer_message(
            ticket, contact=customer, body_text="more", message_id=f"<c{number + 2}@x>"
        )
    first = _reply(ticket, agent)
    second = _reply(ticket, agent, body="Again.")
    assert first.in_reply_to == second.in_reply_to == "<c31@x>"
    references = second.references.split()
    assert len(references) == outbound.REFERENCES_LIMIT
    assert references[-1] == first.message_id  # our own earlier reply is in the chain
    assert "<c31@x>" in references


def test_no_mailbox_for_the_pool_sends_from_the_default_address(settings, agent, pool, customer):
    settings.DEFAULT_FROM_EMAIL = "Help <help@default.test>"
    ticket = services.create_ticket(subject="Hi", pool=pool, requester=customer)
    outgoing = _reply(ticket, agent)
    assert outgoing.mailbox is None
    assert outgoing.from_address == "Help <help@default.test>"
    assert outgoing.reply_to.startswith("help+t") and outgoing.reply_to.endswith("@default.test")


def test_nothing_is_queued_without_a_customer_address(agent, pool):
    contact = ContactFactory(email=None)
    ticket = services.create_ticket(subject="Phone call", pool=pool, requester=contact)
    assert _reply(ticket, agent) is None
    assert not OutgoingEmail.objects.exists()


def test_notes_and_customer_messages_are_never_queued(ticket, agent):
    note = services.add_note(ticket, author=agent, body="internal")
    inbound = ticket.messages.get(kind=Message.Kind.INBOUND)
    assert outbound.queue_reply(note) is None
    assert outbound.queue_reply(inbound) is None


def test_the_default_mailer_backend_is_used(settings, ticket, agent, mailoutbox):
    outgoing = _reply(ticket, agent)
    assert outbound.send_outgoing_emails([outgoing.pk]) == {outgoing.pk}
    [sent] = mailoutbox
    assert sent.extra_headers["Message-ID"] == outgoing.message_id


def test_the_file_backend_of_development_writes_the_mail(settings, tmp_path, ticket, agent):
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "OPTIONS": {"file_path": str(tmp_path / "mail")},
        }
    }
    outgoing = _reply(ticket, agent)
    assert outbound.send_outgoing_emails([outgoing.pk]) == {outgoing.pk}
    [written] = (tmp_path / "mail").iterdir()
    assert f"Message-ID: {outgoing.message_id}" in written.read_text()


def test_retry_delays_grow_and_are_capped():
    delays = [outbound.retry_delay(attempt) for attempt in range(1, 10)]
    assert delays[:3] == [timedelta(seconds=30), timedelta(minutes=1), timedelta(minutes=2)]
    assert delays[-1] == timedelta(minutes=30)
    assert delays == sorted(delays)


def test_after_the_last_attempt_the_row_fails_and_the_ticket_shows_it(
    settings, smtp_down, ticket, agent
):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    outgoing = _reply(ticket, agent)
    for _ in range(3):
        _make_due(outgoing)
        assert outbound.send_outgoing_emails([outgoing.pk]) == set()
    outgoing.refresh_from_db()
    assert (outgoing.state, outgoing.attempts) == (State.FAILED, 3)
    failure = ticket.activity.get(action=ActivityLog.Action.DELIVERY_FAILED)
    assert outgoing.to[0] in failure.detail
    _make_due(outgoing)
    assert outbound.send_outgoing_emails([outgoing.pk]) == set()
    assert outbound.due_outgoing_ids() == []


def test_a_row_stuck_in_sending_is_claimed_again_after_a_while(ticket, agent, mailoutbox):
    outgoing = _reply(ticket, agent)
    # As a worker's claim leaves it: sending, its job consumed.
    OutgoingEmail.objects.filter(pk=outgoing.pk).update(
        state=State.SENDING, next_attempt_at=timezone.now() - timedelta(minutes=1), enqueued_at=None
    )
    assert outbound.due_outgoing_ids() == []
    assert outbound.send_outgoing_emails([outgoing.pk]) == set()  # another worker has it
    OutgoingEmail.objects.filter(pk=outgoing.pk).update(
        next_attempt_at=timezone.now() - outbound.STUCK_AFTER - timedelta(seconds=1)
    )
    assert outbound.due_outgoing_ids() == [outgoing.pk]
    assert outbound.send_outgoing_emails([outgoing.pk]) == {outgoing.pk}
    assert len(mailoutbox) == 1


def test_due_rows_are_found_with_one_query(ticket, agent, customer, django_assert_num_queries):
    due = _reply(ticket, agent)
    OutgoingEmail.objects.filter(pk=due.pk).update(enqueued_at=None)  # its job was lost
    later = _reply(ticket, agent, body="Later.")
    OutgoingEmail.objects.filter(pk=later.pk).update(
        state=State.RETRY, next_attempt_at=timezone.now() + timedelta(minutes=5)
    )
    _reply(ticket, agent, body="Just enqueued.")  # due, but its job waits in the broker
    with django_assert_num_queries(1):
        assert outbound.due_outgoing_ids() == [due.pk]


def test_a_very_long_subject_is_shortened_but_keeps_the_tag(agent, pool, customer):
    ticket = services.create_ticket(subject="x" * 255, pool=pool, requester=customer)
    outgoing = _reply(ticket, agent)
    assert len(outgoing.subject) <= 255
    assert outgoing.subject.startswith("Re: xxx")
    assert outgoing.subject.endswith(f"… [#{ticket.number}]")


def test_a_failed_row_can_be_sent_again_but_a_sent_row_cannot(
    settings, smtp_down, ticket, agent, mailoutbox
):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    outgoing = _reply(ticket, agent)
    assert outbound.send_outgoing_emails([outgoing.pk]) == set()
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}

    assert outbound.requeue_outgoing_email(outgoing.pk) is True
    assert outbound.send_outgoing_emails([outgoing.pk]) == {outgoing.pk}
    assert outbound.requeue_outgoing_email(outgoing.pk) is False
    assert len(mailoutbox) == 1


def test_smtp_gets_a_timeout_when_the_settings_give_none(settings, ticket, agent, monkeypatch):
    settings.MAILERS = mailers_for(free_port())
    del settings.MAILERS["default"]["OPTIONS"]["timeout"]
    seen = []
    monkeypatch.setattr(
        "django.core.mail.backends.smtp.EmailBackend.open",
        lambda backend: seen.append(backend.timeout),
    )
    outbound.send_outgoing_emails([_reply(ticket, agent).pk])
    assert seen == [outbound.SMTP_TIMEOUT]


def test_a_final_failure_is_shown_on_the_ticket_page(
    settings, smtp_down, ticket, agent, agent_client
):
    settings.OUTBOX_MAX_ATTEMPTS = 1
    outgoing = _reply(ticket, agent)
    assert outbound.send_outgoing_emails([outgoing.pk]) == set()
    page = agent_client.get(ticket.get_absolute_url())
    assert 'class="alert alert-danger py-2 delivery-failed"' in page.text
    assert outgoing.to[0] in page.text


# --- the minute sweep enqueues a row only when no job for it waits in the broker --------


def test_a_row_whose_job_waits_in_the_broker_is_not_enqueued_again(
    ticket, agent, django_capture_on_commit_callbacks
):
    _reply(ticket, agent)  # queued a moment ago, with its job

    with django_capture_on_commit_callbacks() as callbacks:
        assert outbound.requeue_due_outgoing_emails() == []
    assert callbacks == []


def test_a_lost_job_is_enqueued_once_however_many_sweeps_run(
    ticket, agent, django_capture_on_commit_callbacks
):
    lost = _reply(ticket, agent)
    stale = _reply(ticket, agent, body="Also.")
    OutgoingEmail.objects.filter(pk=lost.pk).update(enqueued_at=None)  # the enqueue failed
    long_ago = timezone.now() - outbound.LOST_JOB_AFTER - timedelta(seconds=1)
    OutgoingEmail.objects.filter(pk=stale.pk).update(enqueued_at=long_ago)

    with django_capture_on_commit_callbacks() as callbacks:
        first = outbound.requeue_due_outgoing_emails()
        second = outbound.requeue_due_outgoing_emails()

    assert sorted(first) == sorted([lost.pk, stale.pk])
    assert second == []
    assert len(callbacks) == 2
    assert OutgoingEmail.objects.filter(enqueued_at__isnull=True).count() == 0


def test_a_retry_is_enqueued_as_soon_as_it_is_due(
    ticket, agent, django_capture_on_commit_callbacks
):
    outgoing = _reply(ticket, agent)
    # A worker took the job (claim clears enqueued_at), the send failed: retry later.
    OutgoingEmail.objects.filter(pk=outgoing.pk).update(
        state=OutgoingEmail.State.RETRY,
        enqueued_at=None,
        next_attempt_at=timezone.now() + timedelta(seconds=30),
    )
    with django_capture_on_commit_callbacks():
        assert outbound.requeue_due_outgoing_emails() == []
        later = timezone.now() + timedelta(seconds=31)
        assert outbound.requeue_due_outgoing_emails(later) == [outgoing.pk]


@pytest.mark.parametrize("who", ["agent", "junior approved"])
def test_a_reply_s_outbox_row_exists_even_if_the_after_commit_hook_fails(
    ticket, agent, junior, supervisor, who, django_capture_on_commit_callbacks
):
    from tickets.services.approval import approve_reply

    with django_capture_on_commit_callbacks(execute=False):  # a crash right after commit
        reply = services.add_reply(ticket, author=agent if who == "agent" else junior, body="Ok")
        if who == "junior approved":
            assert not OutgoingEmail.objects.exists()  # held: nothing leaves before approval
            approve_reply(reply, actor=supervisor)
    row = OutgoingEmail.objects.get()
    assert (row.ticket_message_id, row.kind, row.to) == (
        reply.pk,
        "reply",
        [ticket.requester.primary_email],
    )


class _RefusesBob(locmem.EmailBackend):
    """The test mailer, but the server refuses one recipient for good."""

    def send_messages(self, messages):
        for message in messages:
            if "bob@example.test" in message.to:
                raise smtplib.SMTPRecipientsRefused({"bob@example.test": (550, b"no such user")})
        return super().send_messages(messages)


def _rows(ticket, addresses):
    return [
        OutgoingEmail.objects.create(
            ticket=ticket,
            from_address="billing@acme.test",
            to=[address],
            subject="Hello",
            body_text="Hi.",
            message_id=f"<{address}-{number}@acme.test>",
        )
        for number, address in enumerate(addresses)
    ]


def test_many_rows_are_sent_by_one_call_in_the_statements_of_one(
    ticket, mailoutbox, django_capture_on_commit_callbacks
):
    counts = []
    for size in (1, 12):
        rows = _rows(ticket, [f"c{size}-{n}@example.test" for n in range(size)])
        with CaptureQueriesContext(connection) as queries:
            assert outbound.send_outgoing_emails([row.pk for row in rows]) == {r.pk for r in rows}
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert len(mailoutbox) == 13
    assert not OutgoingEmail.objects.exclude(state=State.SENT).exists()
    assert ActivityLog.objects.filter(action=ActivityLog.Action.MAIL_SENT).count() == 13


def test_notifications_with_their_files_are_sent_in_the_statements_of_one(
    ticket, mailoutbox, django_capture_on_commit_callbacks
):
    # A notification may carry files of its own: read for the list, not per mail.
    counts = []
    for size in (1, 12):
        rows = _rows(ticket, [f"n{size}-{n}@example.test" for n in range(size)])
        OutgoingEmail.objects.filter(pk__in=[row.pk for row in rows]).update(
            kind=OutgoingEmail.Kind.NOTIFICATION
        )
        OutgoingAttachment.objects.create(
            outgoing=rows[0], filename="report.pdf", content_type="application/pdf", content=b"%"
        )
        with CaptureQueriesContext(connection) as queries:
            assert outbound.send_outgoing_emails([row.pk for row in rows]) == {r.pk for r in rows}
        counts.append(len(queries))
    assert counts[0] == counts[1]
    with_file = [message for message in mailoutbox if message.attachments]
    assert [message.attachments[0][0] for message in with_file] == ["report.pdf"] * 2


def test_queued_rows_wake_one_job_per_queue(ticket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        outbound.enqueue(_rows(ticket, ["a@example.test", "b@example.test"]))
    assert len(callbacks) == 1


def test_after_a_failure_the_rest_of_the_list_goes_back_to_the_queue(
    settings, ticket, mailoutbox, django_capture_on_commit_callbacks
):
    settings.MAILERS = {"default": {"BACKEND": f"{__name__}._RefusesBob"}}
    first, bob, after = _rows(ticket, ["ann@example.test", "bob@example.test", "cy@example.test"])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert outbound.send_outgoing_emails([first.pk, bob.pk, after.pk]) == {first.pk}
    assert len(callbacks) == 1  # a new job for the rows after the failure
    states = dict(OutgoingEmail.objects.values_list("pk", "state"))
    assert states == {first.pk: State.SENT, bob.pk: State.FAILED, after.pk: State.QUEUED}
    after.refresh_from_db()
    assert (after.attempts, after.enqueued_at is not None) == (0, True)
    assert outbound.send_outgoing_emails([after.pk]) == {after.pk}
    assert [message.to for message in mailoutbox] == [["ann@example.test"], ["cy@example.test"]]
