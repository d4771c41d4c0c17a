from celery import shared_task

from tickets.services import purge_stale_presence


@shared_task
def purge_ticket_presence_task():
    """Drop stale "someone is viewing" marks; idempotent."""
    return purge_stale_presence()


@shared_task
def index_tickets_task(ticket_ids):
    """Rebuild these tickets' search documents (after an event); idempotent."""
    from tickets.search import index_tickets

    return index_tickets(ticket_ids)


@shared_task
def catch_up_search_task():
    """Beat: index every ticket changed since its document was built (lost tasks, imports)."""
    from tickets.search import catch_up

    return catch_up()
