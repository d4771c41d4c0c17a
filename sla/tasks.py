"""Celery tasks of the SLA: thin wrappers around the services."""

from celery import shared_task

from sla import services


@shared_task
def sweep_task():
    """Beat, every minute: reminders, escalations and late-department reminders (set-based).

    Safe with two beat instances or a duplicated delivery: every row is claimed once.
    """
    services.sweep_deadlines()


@shared_task
def apply_policies_task(ticket_ids):
    """Recompute the tickets' deadlines (after an admin changed a policy or calendar)."""
    services.apply_policies(ticket_ids)


@shared_task
def close_resolved_tickets_task():
    """Beat, every ten minutes: close resolved tickets whose pool's wait is over."""
    services.close_resolved_tickets()
