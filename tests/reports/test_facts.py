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
