"""Deliveries to a real receiver on loopback: signed, retried, timed out, redelivered."""

from datetime import timedelta

import pytest
from django.utils import timezone

from mailboxes.models import OutgoingEmail
from tests.factories import TicketFactory
from webhooks import outbox, services
from webhooks.events import Item
from webhooks.models import Delivery, Endpoint

State = Delivery.State


def _deliver_one(endpoint, ticket):
    [delivery_id] = outbox.queue_deliveries("ticket.created", [Item(ticket.pk)])
    return Delivery.objects.get(pk=delivery_id)


def _later(seconds):
    return timezone.now() + timedelta(seconds=seconds)


def test_a_delivery_arrives_signed_with_the_event_in_its_body(receiver, make_endpoint, pool):
    endpoint = make_endpoint(receiver, pools=[pool])
    ticket = TicketFactory(pool=pool, subject="Printer on fire")
    delivery = _deliver_one(endpoint, ticket)

    assert outbox.send_delivery(delivery.pk) is True

    [got] = receiver.received
    assert got.valid, "the receiver written from the README accepts the signature"
    assert got.headers["X-Helpdesk-Event"] == "ticket.created"
    assert got.headers["X-Helpdesk-Delivery"] == str(delivery.pk)
    assert got.headers["Content-Type"] == "application/json"
    body = got.json
    assert body["id"] == str(delivery.event_id)
    assert body["type"] == "ticket.created"
    assert body["data"]["ticket"]["number"] == ticket.number
    assert body["data"]["ticket"]["subject"] == "Printer on fire"
    assert body["data"]["ticket"]["pool"] == {"id": pool.pk, "name": pool.name}
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.response_code) == (State.DELIVERED, 1, 200)
    assert delivery.duration_ms is not None and delivery.delivered_at is not None


def test_a_wrong_secret_or_a_changed_body_does_not_verify(receiver, make_endpoint, pool):
    endpoint = make_endpoint(receiver, pools=[pool])
    receiver.secret = "whsec_not-the-one"
    outbox.send_delivery(_deliver_one(endpoint, TicketFactory(pool=pool)).pk)
    [got] = receiver.received
    assert not got.valid  # and the receiver refused it with 401: a final failure
    assert Delivery.objects.get().state == State.FAILED


def test_a_500_is_retried_with_back_off_then_delivered_with_the_same_event(
    receiver, make_endpoint, pool
):
    endpoint = make_endpoint(receiver, pools=[pool])
    receiver.script = [500, 503]
    delivery = _deliver_one(endpoint, TicketFactory(pool=pool))

    assert outbox.send_delivery(delivery.pk) is False
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.response_code) == (State.RETRY, 1, 500)
    first_wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=8) < first_wait <= timedelta(seconds=10)
    assert outbox.send_delivery(delivery.pk) is False, "not due yet: left alone"

    assert outbox.send_delivery(delivery.pk, now=_later(11)) is False  # 503
    delivery.refresh_from_db()
    second_wait = delivery.next_attempt_at - timezone.now()
    assert timedelta(seconds=18) < second_wait <= timedelta(seconds=20), "the pause doubles"

    assert outbox.send_delivery(delivery.pk, now=_later(40)) is True
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts, delivery.last_error) == (State.DELIVERED, 3, "")
    ids = [got.json["id"] for got in receiver.received]
    assert ids == [str(delivery.event_id)] * 3, "every attempt carries the same event id"
    assert Endpoint.objects.get().consecutive_failures == 0, "a success resets the count"


def test_a_receiver_that_hangs_times_out_and_is_retried(receiver, make_endpoint, pool, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.5
    endpoint = make_endpoint(receiver, pools=[pool])
    receiver.script = [("sleep", 3)]
    delivery = _deliver_one(endpoint, TicketFactory(pool=pool))

    started = timezone.now()
    assert outbox.send_delivery(delivery.pk) is False
    assert timezone.now() - started < timedelta(seconds=2), "the deadline held"
    delivery.refresh_from_db()
    assert delivery.state == State.RETRY
    assert "Timeout" in delivery.last_error or "timed out" in delivery.last_error
    assert delivery.response_code is None


def test_a_refused_connection_is_retried(make_endpoint, pool):
    from tests.mailboxes.smtp_sink import free_port
    from tests.webhooks.receiver import Receiver

    closed = Receiver(port=free_port())  # nobody listens there
    endpoint = make_endpoint(closed, pools=[pool])
    delivery = _deliver_one(endpoint, TicketFactory(pool=pool))
    assert outbox.send_delivery(delivery.pk) is False
    delivery.refresh_from_db()
    assert delivery.state == State.RETRY
    assert "Connection" in delivery.last_error or "refused" in delivery.last_error


@pytest.mark.parametrize(("status", "word"), [(404, "HTTP 404"), (302, "redirects")])
def test_a_4xx_or_a_redirect_fails_at_once_and_the_redirect_is_not_followed(
    receiver, make_endpoint, pool, status, word
):
    endpoint = make_endpoint(receiver, pools=[pool])
    receiver.script = [status]
    delivery = _deliver_one(endpoint, TicketFactory(pool=pool))
    assert outbox.send_delivery(delivery.pk) is False
    delivery.refresh_from_db()
    assert (delivery.state, delivery.response_code) == (State.FAILED, status)
    assert word in delivery.last_error
    assert len(receiver.received) == 1


def test_the_last_allowed_attempt_fails_for_good(receiver, make_endpoint, pool, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 2
    endpoint = make_endpoint(receiver, pools=[pool])
    receiver.default = 500
    delivery = _deliver_one(endpoint, TicketFactory(pool=pool))
    outbox.send_delivery(delivery.pk)
    outbox.send_delivery(delivery.pk, now=_later(11))
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == (State.FAILED, 2)
    assert outbox.send_delivery(delivery.pk, now=_later(3600)) is False, "failed stays failed"


def test_a_claimed_row_is_not_sent_by_a_second_worker_until_it_is_stuck(
    receiver, make_endpoint, pool
):
    endpoint = make_endpoint(receiver, pools=[pool])
    delivery = _deliver_one(endpoint, TicketFactory(pool=pool))
    now = timezone.now()
    assert outbox._claim(delivery.pk, now)  # a worker took it, and died
    assert outbox.send_delivery(delivery.pk) is False
    assert outbox.requeue_due_deliveries(_later(60)) == []
    assert receiver.received == []

    stuck = _later(301)
    assert outbox.requeue_due_deliveries(stuck) == [delivery.pk], "claimed again when stuck"
    assert outbox.send_delivery(delivery.pk, now=stuck) is True
    assert len(receiver.received) == 1
    assert Delivery.objects.get().attempts == 2


def test_an_endpoint_failing_n_times_in_a_row_is_disabled_and_the_admins_mailed(
    receiver, make_endpoint, pool, settings, admin_user
):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    endpoint = make_endpoint(receiver, pools=[pool])
    receiver.default = 502
    deliveries = [_deliver_one(endpoint, TicketFactory(pool=pool)) for _ in range(4)]

    for delivery in deliveries[:3]:
        outbox.send_delivery(delivery.pk)
    endpoint.refresh_from_db()
    assert not endpoint.active and endpoint.disabled_at is not None
    assert endpoint.consecutive_failures == 3
    assert "502" in endpoint.disabled_reason
    [mail] = OutgoingEmail.objects.filter(to=[admin_user.email])
    assert mail.internal and "disabled" in mail.subject
    assert endpoint.get_absolute_url() in mail.body_text

    assert outbox.send_delivery(deliveries[3].pk) is False, "a disabled endpoint is not called"
    assert len(receiver.received) == 3
    assert outbox.requeue_due_deliveries(_later(3600)) == [], "nor swept"
    assert outbox.queue_deliveries("ticket.created", [Item(TicketFactory(pool=pool).pk)]) == []

    receiver.default = 200
    assert services.enable_endpoint(endpoint) == 4, "what waited is sent on enabling"
    for delivery in deliveries:
        outbox.send_delivery(delivery.pk)
    assert Delivery.objects.filter(state=State.DELIVERED).count() == 4
    assert OutgoingEmail.objects.count() == 1, "one mail, however many failures"


def test_a_success_between_failures_keeps_the_endpoint_on(receiver, make_endpoint, pool, settings):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 2
    endpoint = make_endpoint(receiver, pools=[pool])
    receiver.script = [500, 200, 500]
    for _ in range(3):
        outbox.send_delivery(_deliver_one(endpoint, TicketFactory(pool=pool)).pk)
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.consecutive_failures == 1


def test_redeliver_sends_the_same_event_again_as_a_new_row(receiver, make_endpoint, pool):
    endpoint = make_endpoint(receiver, pools=[pool])
    receiver.script = [404]
    delivery = _deliver_one(endpoint, TicketFactory(pool=pool))
    outbox.send_delivery(delivery.pk)
    delivery.refresh_from_db()
    assert delivery.state == State.FAILED

    again = outbox.redeliver(delivery)
    assert outbox.send_delivery(again.pk) is True
    assert again.redelivery_of == delivery and again.event_id == delivery.event_id
    first, second = receiver.received
    assert first.body == second.body, "the same event, byte for byte"
    assert first.headers["X-Helpdesk-Delivery"] != second.headers["X-Helpdesk-Delivery"]
    delivery.refresh_from_db()
    assert delivery.state == State.FAILED, "the log keeps the failed attempt"


def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(receiver, make_endpoint, pool):
    endpoint = make_endpoint(receiver, pools=[pool])
    old = receiver.secret
    new = services.rotate_secret(endpoint)
    assert new != old and new.startswith("whsec_")
    outbox.send_delivery(_deliver_one(endpoint, TicketFactory(pool=pool)).pk)
    receiver.secret = new
    outbox.send_delivery(_deliver_one(endpoint, TicketFactory(pool=pool)).pk)
    assert [got.valid for got in receiver.received] == [True, True]
    assert receiver.received[0].headers["X-Helpdesk-Signature"].count("v1=") == 2

    endpoint.refresh_from_db()
    tomorrow = timezone.now() + timedelta(hours=25)
    assert endpoint.signing_secrets(tomorrow) == [new]


def test_a_due_retry_is_enqueued_once_however_many_sweeps_run(receiver, make_endpoint, pool):
    endpoint = make_endpoint(receiver, pools=[pool])
    receiver.script = [500]
    delivery = _deliver_one(endpoint, TicketFactory(pool=pool))
    outbox.send_delivery(delivery.pk)  # a retry, its job consumed
    assert outbox.requeue_due_deliveries() == [], "not due yet"
    later = _later(11)
    assert outbox.requeue_due_deliveries(later) == [delivery.pk]
    assert outbox.requeue_due_deliveries(later) == []
    assert outbox.send_delivery(delivery.pk, now=later) is True
