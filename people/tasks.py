from celery import shared_task

from people.services import purge_sign_in_links


@shared_task
def purge_sign_in_links_task():
    """Beat, hourly: forget old portal sign-in links (set-based, idempotent)."""
    return purge_sign_in_links()
