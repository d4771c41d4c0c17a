"""The report facts kept by the domain events equal a rebuild from the tables."""

import io

from django.core.management import call_command

from reports.models import ReportEvent, TicketFact


def snapshot():
    facts = sorted(TicketFact.objects.values_list(), key=lambda row: row[0])
    events = sorted(ReportEvent.objects.values_list("ticket_id", "kind", "at"))
    return facts, events


def test_kept_facts_equal_a_rebuild(month):
    kept = snapshot()
    assert len(kept[0]) == 7 and len(kept[1]) == 2
    TicketFact.objects.all().delete()
    ReportEvent.objects.all().delete()
    call_command("rebuild_report_facts", batch_size=3, stdout=io.StringIO())
    assert snapshot() == kept


def test_a_rebuild_repairs_a_wrong_row(month):
    kept = snapshot()
    TicketFact.objects.filter(ticket=month["A"]).update(handling_seconds=1, late=True)
    call_command("rebuild_report_facts", stdout=io.StringIO())
    assert snapshot() == kept


def test_mail_ingested_in_a_batch_gets_its_facts_and_a_reply_to_a_closed_ticket_counts(
    pool, agent, django_capture_on_commit_callbacks
):
    from mailboxes.processing import process_raw_messages
    from tests.mailboxes.test_processing import build_mail, make_mailbox, store_raw
    from tickets.models import Ticket
    from tickets.services import change_status
    from tickets.states import Status

    mailbox = make_mailbox(pool)
    mails = [
        build_mail(sender=f"c{n}@example.test", subject=f"Question {n}",
                   message_id=f"<q-{n}@example.test>")
        for n in range(3)
    ]  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        process_raw_messages([store_raw(mailbox, mail).pk for mail in mails])
    assert TicketFact.objects.count() == Ticket.objects.count() == 3
    ticket = Ticket.objects.get(subject="Question 0")
    with django_capture_on_commit_callbacks(execute=True):
        change_status(ticket, to=Status.CLOSED, actor=agent)
    assert TicketFact.objects.get(ticket=ticket).finished_at is not None
    reply = build_mail(sender="c0@example.test", subject="Re: Question 0",
                       message_id="<r-0@example.test>",
                       headers={"In-Reply-To": "<q-0@example.test>"})  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        process_raw_messages([store_raw(mailbox, reply).pk])
    kinds = set(ReportEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == {ReportEvent.Kind.REOPENED, ReportEvent.Kind.REPLY_AFTER_CLOSE}
    assert TicketFact.objects.get(ticket=ticket).finished_at is None
    kept = snapshot()
    call_command("rebuild_report_facts", stdout=io.StringIO())
    assert snapshot() == kept
