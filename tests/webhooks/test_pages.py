"""The admins' webhook pages: create (secret shown once), edit, log, redeliver, rotate."""

import pytest

from tests.factories import TicketFactory
from webhooks import outbox
from webhooks.events import Item
from webhooks.models import Delivery, Endpoint


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _form(receiver, pools, **changes):
    data = {
        "name": "CRM",
        "url": receiver.url,
        "events": ["ticket.created", "message.customer"],
        "pools": [pool.pk for pool in pools],
        "active": "on",
    }
    return {**data, **changes}


def test_an_admin_makes_a_webhook_and_sees_its_secret_once(admin_client, receiver, pool):
    response = admin_client.post("/settings/webhooks/new/", _form(receiver, [pool]))
    endpoint = Endpoint.objects.get()
    assert response.status_code == 302 and response["Location"] == endpoint.get_absolute_url()
    assert endpoint.events == ["ticket.created", "message.customer"]
    assert list(endpoint.pools.all()) == [pool]

    page = admin_client.get(endpoint.get_absolute_url()).content.decode()
    assert endpoint.secret in page and "shown this once" in page
    again = admin_client.get(endpoint.get_absolute_url()).content.decode()
    assert endpoint.secret not in again, "never shown a second time"
    edit = admin_client.get(f"/settings/webhooks/{endpoint.pk}/edit/").content.decode()
    assert endpoint.secret not in edit


def test_the_secret_is_stored_encrypted(admin_client, receiver, pool):
    from django.db import connection

    admin_client.post("/settings/webhooks/new/", _form(receiver, [pool]))
    endpoint = Endpoint.objects.get()
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM webhooks_endpoint")
        [(stored,)] = cursor.fetchall()
    assert endpoint.secret.startswith("whsec_") and endpoint.secret not in stored


def test_a_form_with_an_internal_url_is_shown_again_with_the_reason(
    admin_client, receiver, pool, settings
):
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    response = admin_client.post("/settings/webhooks/new/", _form(receiver, [pool]))
    assert response.status_code == 400
    assert "not called" in response.content.decode()
    assert not Endpoint.objects.exists()


def test_an_admin_edits_events_and_pools(admin_client, receiver, make_endpoint, pool, other_pool):
    endpoint = make_endpoint(receiver, pools=[pool])
    data = _form(receiver, [other_pool], name="ERP", events=["ticket.assigned"])
    response = admin_client.post(f"/settings/webhooks/{endpoint.pk}/edit/", data)
    assert response.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.events) == ("ERP", ["ticket.assigned"])
    assert list(endpoint.pools.all()) == [other_pool]


def test_the_log_shows_each_delivery_and_redeliver_sends_it_again(
    admin_client, receiver, make_endpoint, pool, django_capture_on_commit_callbacks, eager_tasks
):
    endpoint = make_endpoint(receiver, pools=[pool])
    receiver.script = [500]
    ticket = TicketFactory(pool=pool)
    [delivery_id] = outbox.queue_deliveries("ticket.created", [Item(ticket.pk)])
    outbox.send_delivery(delivery_id)
    Delivery.objects.filter(pk=delivery_id).update(state=Delivery.State.FAILED)

    page = admin_client.get(endpoint.get_absolute_url()).content.decode()
    assert "Failed" in page and "500" in page and ticket.number in page and "Redeliver" in page

    with django_capture_on_commit_callbacks(execute=True):
        url = f"/settings/webhooks/{endpoint.pk}/deliveries/{delivery_id}/redeliver/"
        response = admin_client.post(url)
    assert response.status_code == 302
    assert len(receiver.received) == 2 and receiver.received[-1].valid
    again = Delivery.objects.exclude(pk=delivery_id).get()
    assert again.state == Delivery.State.DELIVERED and again.redelivery_of_id == delivery_id


def test_the_log_filters_by_state(admin_client, receiver, make_endpoint, pool):
    endpoint = make_endpoint(receiver, pools=[pool])
    outbox.queue_deliveries("ticket.created", [Item(TicketFactory(pool=pool).pk)])
    page = admin_client.get(endpoint.get_absolute_url() + "?state=failed").content.decode()
    assert "No deliveries yet." in page


def test_list_and_log_pages_have_fixed_query_counts(
    admin_client, receiver, make_endpoint, pool, other_pool, django_assert_max_num_queries
):
    endpoints = [make_endpoint(receiver, pools=[pool, other_pool], name=f"E{n}") for n in range(3)]
    tickets = [Item(TicketFactory(pool=pool).pk) for _ in range(30)]
    outbox.queue_deliveries("ticket.created", tickets)
    with django_assert_max_num_queries(8):
        assert admin_client.get("/settings/webhooks/").status_code == 200
    with django_assert_max_num_queries(9):
        assert admin_client.get(endpoints[0].get_absolute_url()).status_code == 200


def test_rotate_shows_the_new_secret_once_and_enable_switches_it_back_on(
    admin_client, receiver, make_endpoint, pool
):
    endpoint = make_endpoint(receiver, pools=[pool])
    old = endpoint.secret
    admin_client.post(f"/settings/webhooks/{endpoint.pk}/rotate/")
    endpoint.refresh_from_db()
    assert endpoint.secret != old and endpoint.previous_secret == old
    assert endpoint.secret in admin_client.get(endpoint.get_absolute_url()).content.decode()

    Endpoint.objects.filter(pk=endpoint.pk).update(active=False, consecutive_failures=15)
    admin_client.post(f"/settings/webhooks/{endpoint.pk}/enable/")
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.consecutive_failures == 0


def test_delete_removes_the_webhook_and_its_log(admin_client, receiver, make_endpoint, pool):
    endpoint = make_endpoint(receiver, pools=[pool])
    outbox.queue_deliveries("ticket.created", [Item(TicketFactory(pool=pool).pk)])
    response = admin_client.post(f"/settings/webhooks/{endpoint.pk}/delete/")
    assert response.status_code == 302
    assert not Endpoint.objects.exists() and not Delivery.objects.exists()


def test_get_never_changes_anything(admin_client, receiver, make_endpoint, pool):
    endpoint = make_endpoint(receiver, pools=[pool])
    for action in ("rotate", "enable", "delete"):
        assert admin_client.get(f"/settings/webhooks/{endpoint.pk}/{action}/").status_code == 405
