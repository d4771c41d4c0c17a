"""The receiver example in the README, run as written, accepts our deliveries and only them."""

import re
from pathlib import Path

import pytest

from tests.factories import TicketFactory
from webhooks import outbox
from webhooks.events import Item

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_verify():
    section = README.read_text().split("## Webhooks", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - our own documentation
    return namespace["verify"]


def test_the_readme_receiver_accepts_a_real_delivery_and_refuses_a_forgery(
    receiver, make_endpoint, pool
):
    verify = _readme_verify()
    endpoint = make_endpoint(receiver, pools=[pool])
    ticket = TicketFactory(pool=pool)
    [delivery_id] = outbox.queue_deliveries("ticket.created", [Item(ticket.pk)])
    outbox.send_delivery(delivery_id)
    [got] = receiver.received
    header = got.headers["X-Helpdesk-Signature"]

    event = verify(endpoint.secret, header, got.body)
    assert event["type"] == "ticket.created" and event["data"]["ticket"]["id"] == ticket.pk

    with pytest.raises(ValueError, match="bad signature"):
        verify(endpoint.secret, header, got.body.replace(b"ticket", b"tickez", 1))
    with pytest.raises(ValueError, match="bad signature"):
        verify("whsec_someone-else", header, got.body)
    stale = re.sub(r"t=(\d+)", lambda m: f"t={int(m.group(1)) - 3600}", header)
    with pytest.raises(ValueError, match="stale"):
        verify(endpoint.secret, stale, got.body)
