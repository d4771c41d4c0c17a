from celery import shared_task

from tickets.services import purge_stale_presence


@shared_task
def purge_ticket_presence_task():
    """Drop stale "someone is viewing" marks; idempotent."""
    return purge_stale_presence()
