"""Celery tasks of the webhooks (queue ``webhooks``): thin wrappers that take ids."""

from celery import shared_task

from webhooks import outbox


@shared_task
def fan_out_deliveries_task(delivery_ids):
    """One send job per new delivery; made here, not on the path that recorded the event."""
    outbox.fan_out(delivery_ids)


@shared_task
def send_delivery_task(delivery_id):
    """Send one delivery if it can be claimed; failures become retries. Safe to run twice."""
    outbox.send_delivery(delivery_id)


@shared_task
def send_due_deliveries_task():
    """Beat: enqueue deliveries whose retry is due, stuck ones, and jobs the broker lost."""
    outbox.requeue_due_deliveries()
