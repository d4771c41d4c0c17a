"""Domain events: lists, sent after commit to every receiver, whatever one of them does."""

import logging

from tickets import services, signals
from tickets.states import Status


def test_a_failing_receiver_is_logged_and_the_others_still_run(
    pool, customer, agent, django_capture_on_commit_callbacks, caplog
):
    ticket = services.create_ticket(subject="Printer", pool=pool, requester=customer)
    heard = []

    def failing(sender, **kwargs):
        raise RuntimeError("receiver broke")

    def listening(sender, changes, **kwargs):
        heard.extend((change.ticket.pk, change.before, change.after) for change in changes)

    signals.statuses_changed.connect(failing, dispatch_uid="test-failing")
    signals.statuses_changed.connect(listening, dispatch_uid="test-listening")
    try:
        with (
            caplog.at_level(logging.ERROR, logger="django.dispatch"),
            django_capture_on_commit_callbacks(execute=True),
        ):
            services.change_status(ticket, to=Status.IN_PROGRESS, actor=agent)
    finally:
        signals.statuses_changed.disconnect(dispatch_uid="test-failing")
        signals.statuses_changed.disconnect(dispatch_uid="test-listening")
    assert heard == [(ticket.pk, Status.NEW, Status.IN_PROGRESS)]
    assert "receiver broke" in caplog.text
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS  # the committed change stands
