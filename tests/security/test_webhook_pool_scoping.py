"""A webhook of pool X never hears about pool Y, and only admins reach the webhook pages."""

import json

import pytest

from tests.factories import ContactFactory, TicketFactory
from tests.webhooks.receiver import Receiver, running_receiver
from tickets import services
from tickets.services.intake import CustomerMail, receive_customer_messages
from webhooks import outbox
from webhooks import services as webhook_services
from webhooks.events import REGISTRY, Item
from webhooks.models import Delivery


@pytest.fixture
def receiver(settings):
    settings.WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]  # the test's receiver is on loopback
    with running_receiver(Receiver()) as running:
        yield running


@pytest.fixture
def make_endpoint(admin_user):
    def make(receiver, *, pools, events=("ticket.created",), name="CRM"):
        endpoint, receiver.secret = webhook_services.create_endpoint(
            name=name, url=receiver.url, events=list(events), pools=pools, active=True,
            actor=admin_user,
        )  # fmt: skip
        return endpoint

    return make


def test_an_endpoint_of_pool_x_gets_nothing_from_pool_y(
    receiver, make_endpoint, pool, other_pool, agent, django_capture_on_commit_callbacks
):
    mine = make_endpoint(receiver, pools=[pool], events=[e.name for e in REGISTRY])
    mails = [
        CustomerMail(contact=ContactFactory(), subject=f"Y {n}", body_text="y", pool=other_pool)
        for n in range(3)
    ] + [CustomerMail(contact=ContactFactory(), subject="X", body_text="x", pool=pool)]
    with django_capture_on_commit_callbacks(execute=True):
        receive_customer_messages(mails)
    with django_capture_on_commit_callbacks(execute=True):
        services.add_note(mails[0].ticket, author=agent, body="Y's secret")

    bodies = [json.loads(d.body) for d in Delivery.objects.filter(endpoint=mine)]
    assert bodies and all(b["data"]["ticket"]["pool"]["id"] == pool.pk for b in bodies)
    assert not any("Y's secret" in d.body or '"Y ' in d.body for d in Delivery.objects.all())


def test_an_endpoint_of_both_pools_gets_both_and_each_body_carries_only_its_ticket(
    receiver, make_endpoint, pool, other_pool
):
    both = make_endpoint(receiver, pools=[pool, other_pool])
    x, y = (
        TicketFactory(pool=pool, subject="X one"),
        TicketFactory(pool=other_pool, subject="Y one"),
    )
    outbox.queue_deliveries("ticket.created", [Item(x.pk), Item(y.pk)])
    bodies = {
        json.loads(d.body)["data"]["ticket"]["subject"]: d.body for d in both.deliveries.all()
    }
    assert set(bodies) == {"X one", "Y one"}
    assert "Y one" not in bodies["X one"]


def test_a_ticket_that_left_the_pool_is_not_told_to_the_old_pool_s_endpoint(
    receiver, make_endpoint, pool, other_pool
):
    make_endpoint(receiver, pools=[pool])
    ticket = TicketFactory(pool=pool)
    ticket.pool = other_pool
    ticket.save(update_fields=["pool"])
    assert outbox.queue_deliveries("ticket.created", [Item(ticket.pk)]) == []


@pytest.mark.parametrize("who", ["agent", "supervisor", "customer_user"])
def test_webhook_pages_are_not_found_for_anyone_but_admins(
    client, request, who, receiver, make_endpoint, pool
):
    endpoint = make_endpoint(receiver, pools=[pool])
    delivery_id = outbox.queue_deliveries("ticket.created", [Item(TicketFactory(pool=pool).pk)])[0]
    client.force_login(request.getfixturevalue(who))
    for url in (
        "/settings/webhooks/",
        "/settings/webhooks/new/",
        f"/settings/webhooks/{endpoint.pk}/",
    ):
        assert client.get(url).status_code == 404
    for action in ("rotate", "enable", "delete", f"deliveries/{delivery_id}/redeliver"):
        assert client.post(f"/settings/webhooks/{endpoint.pk}/{action}/").status_code == 404
    assert Delivery.objects.count() == 1
    endpoint.refresh_from_db()


def test_anonymous_visitors_are_sent_to_sign_in(client, receiver, make_endpoint, pool):
    make_endpoint(receiver, pools=[pool])
    response = client.get("/settings/webhooks/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_redeliver_of_another_endpoint_s_delivery_is_not_found(
    client, admin_user, receiver, make_endpoint, pool
):
    first = make_endpoint(receiver, pools=[pool], name="First")
    second = make_endpoint(receiver, pools=[pool], name="Second")
    delivery = first.deliveries.model.objects.create(
        endpoint=first, event="ticket.created", event_id="00000000-0000-0000-0000-000000000001",
        body="{}", state="failed",
    )  # fmt: skip
    client.force_login(admin_user)
    url = f"/settings/webhooks/{second.pk}/deliveries/{delivery.pk}/redeliver/"
    assert client.post(url).status_code == 404
    assert Delivery.objects.count() == 1
