"""Celery tasks of the reports: thin wrappers around the services."""

from celery import shared_task

from reports import saved


@shared_task
def send_scheduled_reports_task():
    """Beat, every hour: mail the scheduled reports whose week or month is over.

    Safe with two beat instances or a duplicated delivery: a report is mailed once per
    period (a unique row per report and period, written with the outbox rows).
    """
    return saved.send_due_reports()
