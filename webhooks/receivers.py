"""One receiver per event of ``events.REGISTRY``: the signal's list becomes delivery rows.

The events arrive after their change committed (``send_robust``): a failure here is
logged and stops nothing. Each receiver asks first whether any endpoint wants the event,
so an installation without webhooks pays one small query per batch.
"""

from webhooks.events import REGISTRY, Event


def _receiver(event: Event):
    def receive(sender, **kwargs):
        from webhooks.outbox import queue_deliveries, subscribers

        objects = list(kwargs.get(event.argument) or [])
        by_pool = subscribers(event.name) if objects else {}
        if by_pool:
            queue_deliveries(event.name, event.items(objects), by_pool=by_pool)

    receive.__name__ = f"on_{event.name.replace('.', '_')}"
    return receive


def connect() -> None:
    for event in REGISTRY:
        event.signal.connect(_receiver(event), weak=False, dispatch_uid=f"webhooks-{event.name}")
