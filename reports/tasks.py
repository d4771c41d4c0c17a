"""Celery tasks of the reports: thin wrappers around the services."""

from celery import shared_task

from reports import saved, services


@shared_task
def send_scheduled_reports_task():
    """Beat, every hour: mail the scheduled reports whose week or month is over.

    Safe with two beat instances or a duplicated delivery: a report is mailed once per
    period (a unique row per report and period, written with the outbox rows).
    """
    return saved.send_due_reports()


@shared_task
def refresh_facts_task(ticket_ids):
    """Recompute the report facts of these tickets (new ones: ``tickets_created``). Safe to
    run twice: the rows are replaced by what the tables say then."""
    services.refresh_facts(ticket_ids)
