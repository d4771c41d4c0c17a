from celery import shared_task

from tickets.services import purge_stale_presence


@shared_task
def purge_ticket_presence_task():
    """Drop stale "someone is viewing" marks; idempotent."""
    return purge_stale_presence()


@shared_task
def index_tickets_task(ticket_ids, languages=None):
    """Rebuild these tickets' search documents (after an event); idempotent.

    ``languages``: ticket id (a string: JSON) → the language the intake told from its
    opening, for a new ticket's first document.
    """
    from tickets.search import index_tickets

    told = {int(pk): language for pk, language in (languages or {}).items()}
    return index_tickets(ticket_ids, languages=told)


@shared_task
def catch_up_search_task():
    """Beat: index every ticket changed since its document was built (lost tasks, imports)."""
    from tickets.search import catch_up

    return catch_up()
