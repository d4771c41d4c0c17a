from datetime import timedelta

from celery import shared_task
from django.conf import settings

from live.backends import prune_events


@shared_task
def prune_live_events_task():
    """Delete the database backend's old events (browsers resume from the rest); re-runnable."""
    return prune_events(older_than=timedelta(seconds=settings.LIVE_KEEP_SECONDS))
