"""Calls on the live stream: the agents of the call's pool hear it ring, answered, ended."""

from live.publish import publish
from phone.models import Call


def announce_call(call: Call, news: list[str]) -> None:
    """Publish what just happened to ``call`` on its pool's topic (after commit).

    Only incoming calls pop up. The data is what every agent of the pool may see: the
    call's id and number and whether the caller is known; each browser then fetches the
    caller card, which shows the open tickets that agent may see.
    """
    if call.direction != Call.Direction.INBOUND:
        return
    data = {
        "call": call.pk,
        "number": call.customer_display,
        "known": call.contact_id is not None,
        "state": call.state,
    }
    for event in news:
        publish(f"pool:{call.pool_id}", event, data)
