"""Webhook URLs cannot reach inside: private, loopback, link-local and the like are refused
when saved and again when sent (the name is resolved at send time, and the request goes to
the address checked), unless WEBHOOK_ALLOWED_NETWORKS lists them; no redirect is followed."""

import socket

import pytest

from tests.factories import TicketFactory
from tests.webhooks.receiver import Receiver, running_receiver
from webhooks import outbox, services
from webhooks.addresses import RefusedAddressError, checked_addresses
from webhooks.events import Item
from webhooks.forms import EndpointForm
from webhooks.models import Delivery


@pytest.fixture(autouse=True)
def _production_rules(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = []


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://10.0.0.5/hook",
        "https://192.168.1.1/hook",
        "https://172.16.0.1/hook",
        "https://169.254.169.254/latest/meta-data/",  # the cloud metadata service
        "https://[fe80::1]/hook",
        "https://100.64.0.1/hook",  # carrier-grade NAT
        "https://0.0.0.0/hook",
        "https://[::ffff:127.0.0.1]/hook",  # loopback dressed as IPv6
        "https://2130706433/hook",  # 127.0.0.1 as one number
        "https://224.0.0.1/hook",
        "ftp://93.184.215.14/hook",
        "https://user:pass@93.184.215.14/hook",
        "http://93.184.215.14/hook",  # public, but not https
    ],
)
def test_internal_or_unsafe_urls_are_refused(url):
    with pytest.raises(RefusedAddressError):
        checked_addresses(url)


def test_a_public_https_address_is_accepted():
    scheme, host, port, addresses = checked_addresses("https://93.184.215.14:8443/hook")
    assert (scheme, host, port) == ("https", "93.184.215.14", 8443)
    assert [str(address) for address in addresses] == ["93.184.215.14"]


def test_the_admin_form_refuses_an_internal_url(pool):
    form = EndpointForm(
        data={
            "name": "Metadata",
            "url": "https://169.254.169.254/latest/",
            "events": ["ticket.created"],
            "pools": [pool.pk],
            "active": "on",
        }
    )
    assert not form.is_valid()
    assert "not called" in str(form.errors["url"])


def test_the_allowlist_opens_a_network_and_http_only_inside_it(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["10.1.0.0/16"]
    assert checked_addresses("http://10.1.2.3/hook")[3]
    with pytest.raises(RefusedAddressError):
        checked_addresses("http://10.2.0.1/hook")


def test_a_name_that_resolves_inside_at_send_time_is_not_called(pool, admin_user, monkeypatch):
    """DNS rebinding: the name was public when saved, points at loopback when sent."""
    with running_receiver(Receiver()) as receiver:
        _endpoint, receiver.secret = services.create_endpoint(
            name="Rebound",
            url=f"https://hooks.example.test:{receiver.port}/in",
            events=["ticket.created"],
            pools=[pool],
            active=True,
            actor=admin_user,
        )
        real = socket.getaddrinfo

        def rebound(host, port, *args, **kwargs):
            if host == "hooks.example.test":
                return real("127.0.0.1", port, *args, **kwargs)
            return real(host, port, *args, **kwargs)

        monkeypatch.setattr(socket, "getaddrinfo", rebound)
        [delivery_id] = outbox.queue_deliveries(
            "ticket.created", [Item(TicketFactory(pool=pool).pk)]
        )
        assert outbox.send_delivery(delivery_id) is False
        assert receiver.received == [], "nothing reached the loopback receiver"
    delivery = Delivery.objects.get(pk=delivery_id)
    assert delivery.state == Delivery.State.FAILED
    assert "127.0.0.1" in delivery.last_error
