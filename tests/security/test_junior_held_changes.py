"""A junior's reply holds everything it carries until a supervisor approves it.

The status chosen with the reply, its files and the SLA's response and resolution targets
stay as they were while the reply waits; approval applies them (at the approval time),
returning drops them. No other route (status form, disposition form, merge, portal, the
services any later API would call) lets the status reach the customer or the SLA sooner.
"""

from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from mailboxes.models import Mailbox, NotificationRule, OutgoingEmail
from sla.models import BusinessCalendar, Deadline, SlaPolicy, Target, WorkingInterval
from surveys.models import (
    PoolSurveySettings,
    Question,
    Questionnaire,
    Response,
    SurveyInvitation,
)
from tickets import services
from tickets.models import ActivityLog, Approval, Message
from tickets.services import portal
from tickets.states import HELD_STATUSES, Status

# Mail queued after commit is sent in-process: anything that would leave, leaves.
pytestmark = pytest.mark.usefixtures("eager_tasks")

State = Deadline.State
# A Wednesday noon: inside the always-open calendar, far from any day boundary.
WRITTEN = datetime(2026, 6, 3, 12, 0, tzinfo=UTC)
APPROVED = WRITTEN + timedelta(minutes=40)


@pytest.fixture
def policy(db):
    calendar = BusinessCalendar.objects.create(name="Always", time_zone="UTC")
    for day in range(7):
        WorkingInterval.objects.create(
            calendar=calendar, weekday=day, start=time(0, 0), end=time(23, 59)
        )
    return SlaPolicy.objects.create(
        name="Standard",
        order=100,
        calendar=calendar,
        first_response_minutes=120,
        next_response_minutes=240,
        resolution_minutes=24 * 60,
        reminder_before=30,
    )


@pytest.fixture
def surveys_on(pool):
    satisfaction = Questionnaire.objects.create(
        name="Satisfaction", kind=Questionnaire.Kind.SATISFACTION
    )
    Question.objects.create(
        questionnaire=satisfaction, text="How satisfied?", kind=Question.Kind.RATING
    )
    disposition = Questionnaire.objects.create(
        name="Disposition", kind=Questionnaire.Kind.DISPOSITION
    )
    Question.objects.create(
        questionnaire=disposition, text="Notes", kind=Question.Kind.TEXT, required=False
    )
    return PoolSurveySettings.objects.create(
        pool=pool,
        satisfaction_enabled=True,
        satisfaction_questionnaire=satisfaction,
        disposition_questionnaire=disposition,
    )


@pytest.fixture
def ticket(
    pool, junior, customer, customer_user, policy, surveys_on, django_capture_on_commit_callbacks
):
    Mailbox.objects.create(name="Billing", pool=pool, from_address="billing@acme.test")
    for event in (NotificationRule.Event.TICKET_RESOLVED, NotificationRule.Event.AGENT_MESSAGE):
        NotificationRule.objects.update_or_create(
            event=event, pool=None, defaults={"enabled": True, "to_requester": True}
        )
    with time_machine.travel(WRITTEN, tick=False), django_capture_on_commit_callbacks(execute=True):
        ticket = portal.open_ticket_from_portal(
            contact=customer, actor=customer_user, subject="Refund", description="Help", pool=pool
        )
        ticket = services.assign_ticket(ticket, agent=junior, actor=junior)
    return ticket


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run a request or service and, as after a real commit, every reaction to it."""

    def do(call, *args, when=WRITTEN, **kwargs):
        with (
            time_machine.travel(when, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            return call(*args, **kwargs)

    return do


def _pending_reply(run, ticket, junior, *, then_status=Status.RESOLVED):
    return run(services.add_reply, ticket, author=junior, body="Refunded.", then_status=then_status)


def _deadlines(ticket):
    return {d.target: d for d in Deadline.objects.filter(ticket=ticket)}


def _assert_nothing_changed(ticket):
    ticket.refresh_from_db()
    assert ticket.status == Status.TAKEN
    assert ticket.resolved_at is None and ticket.closed_at is None
    assert ticket.first_response_at is None
    found = _deadlines(ticket)
    assert found[Target.FIRST_RESPONSE].state == State.RUNNING
    assert found[Target.RESOLUTION].state == State.RUNNING
    # Nothing for the customer: no reply, no "resolved" notice, no survey.
    assert not OutgoingEmail.objects.exists()
    assert not SurveyInvitation.objects.exists()


def test_junior_reply_form_holds_the_status_and_files_until_approval(
    client, run, ticket, junior, supervisor, customer_user, mailoutbox
):
    client.force_login(junior)
    upload = SimpleUploadedFile("refund.pdf", b"%PDF-1.4 refund", content_type="application/pdf")
    response = run(
        client.post,
        reverse("tickets:reply", args=[ticket.number]),
        {"body": "Refunded.", "then_status": Status.RESOLVED, "attachments": [upload]},
    )
    assert response.status_code == 302
    reply = Message.objects.get(ticket=ticket, kind=Message.Kind.OUTBOUND)
    assert (reply.approval, reply.held_status) == (Approval.PENDING, Status.RESOLVED)
    _assert_nothing_changed(ticket)
    assert mailoutbox == []

    client.force_login(supervisor)
    response = run(client.post, reverse("tickets:approve", args=[reply.pk]), when=APPROVED)

    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    # The customer got the answer when it was approved: that is the first response time.
    assert ticket.first_response_at == APPROVED
    found = _deadlines(ticket)
    assert (found[Target.FIRST_RESPONSE].state, found[Target.FIRST_RESPONSE].met_at) == (
        State.MET,
        APPROVED,
    )
    assert (found[Target.RESOLUTION].state, found[Target.RESOLUTION].met_at) == (
        State.MET,
        APPROVED,
    )
    status_row = ActivityLog.objects.get(
        ticket=ticket, action=ActivityLog.Action.STATUS, after="resolved"
    )
    assert status_row.actor == supervisor
    reply_mail = OutgoingEmail.objects.get(ticket_message=reply)
    assert reply_mail.state == OutgoingEmail.State.SENT
    assert [item.filename for item in reply.attachments.all()] == ["refund.pdf"]
    assert any(m.attachments for m in mailoutbox)


def test_a_returned_reply_drops_its_held_status_and_changes_nothing(
    run, ticket, junior, supervisor
):
    reply = _pending_reply(run, ticket, junior, then_status=Status.CLOSED)

    run(services.return_reply, reply, actor=supervisor, comment="Ask for the invoice first.")

    reply.refresh_from_db()
    assert (reply.approval, reply.held_status) == (Approval.RETURNED, "")
    _assert_nothing_changed(ticket)


def test_supervisor_may_approve_the_reply_without_its_held_status(run, ticket, junior, supervisor):
    reply = _pending_reply(run, ticket, junior, then_status=Status.CLOSED)

    run(services.approve_reply, reply, actor=supervisor, status="", when=APPROVED)

    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert not SurveyInvitation.objects.exists()


def test_a_held_status_the_ticket_can_no_longer_take_refuses_the_whole_approval(
    run, ticket, junior, supervisor, customer_user
):
    reply = _pending_reply(run, ticket, junior)
    run(portal.cancel_ticket, ticket, actor=customer_user)

    with pytest.raises(ValidationError):
        run(services.approve_reply, reply, actor=supervisor, when=APPROVED)

    reply.refresh_from_db()
    assert reply.approval == Approval.PENDING
    assert not OutgoingEmail.objects.filter(ticket_message=reply).exists()


@pytest.mark.parametrize("to", HELD_STATUSES)
def test_junior_status_form_cannot_set_a_held_status_while_reply_pending(
    client, run, ticket, junior, to
):
    _pending_reply(run, ticket, junior)
    client.force_login(junior)

    response = run(client.post, reverse("tickets:status", args=[ticket.number]), {"status": to})

    assert response.status_code == 400
    assert "waiting for approval" in response.content.decode()
    _assert_nothing_changed(ticket)


def test_without_a_pending_reply_a_junior_may_resolve_by_the_status_form(
    client, run, ticket, junior
):
    client.force_login(junior)
    url = reverse("tickets:status", args=[ticket.number])
    response = run(client.post, url, {"status": Status.RESOLVED})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED


@pytest.mark.parametrize("then", ["resolve", "close"])
def test_junior_disposition_form_cannot_resolve_or_close_while_reply_pending(
    client, run, ticket, junior, surveys_on, then
):
    _pending_reply(run, ticket, junior)
    client.force_login(junior)
    question = surveys_on.disposition_questionnaire.questions.get()

    response = run(
        client.post,
        reverse("surveys:disposition", args=[ticket.number]),
        {f"disposition-q{question.pk}": "Refund done", "then": then},
    )

    assert response.status_code == 400
    assert not Response.objects.filter(ticket=ticket).exists()  # the form and close: one unit
    _assert_nothing_changed(ticket)


@pytest.mark.parametrize("who", ["junior", "supervisor"])
def test_merge_cannot_close_a_ticket_whose_reply_is_pending(
    client, run, ticket, junior, supervisor, pool, customer, who
):
    _pending_reply(run, ticket, junior)
    other = run(services.create_ticket, subject="Other", pool=pool, requester=customer)
    client.force_login({"junior": junior, "supervisor": supervisor}[who])

    response = run(
        client.post, reverse("tickets:merge", args=[ticket.number]), {"target": other.number}
    )

    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.merged_into_id is None
    assert not other.messages.filter(kind=Message.Kind.OUTBOUND).exists()
    _assert_nothing_changed(ticket)


def test_portal_shows_neither_a_pending_reply_nor_its_files_nor_its_held_status(
    client, run, ticket, junior, customer_user
):
    upload = SimpleUploadedFile("refund.pdf", b"%PDF-1.4", content_type="application/pdf")
    reply = run(
        services.add_reply,
        ticket,
        author=junior,
        body="Refunded secretly.",
        files=[upload],
        then_status=Status.RESOLVED,
    )
    client.force_login(customer_user)

    page = client.get(reverse("portal:detail", args=[ticket.number]))
    download = client.get(
        reverse("portal:attachment", args=[ticket.number, reply.attachments.get().pk])
    )
    approve = run(client.post, reverse("portal:approve", args=[ticket.number]))

    assert page.status_code == 200
    assert "Refunded secretly." not in page.text
    assert "refund.pdf" not in page.text
    assert page.context["awaits_approval"] is False
    assert download.status_code == 404
    assert approve.status_code == 400  # "not waiting for your approval": it is not resolved
    _assert_nothing_changed(ticket)


@pytest.mark.parametrize("to", HELD_STATUSES)
def test_no_service_lets_a_junior_set_a_held_status_while_a_reply_waits(run, ticket, junior, to):
    # Every route (and any later API) ends in change_status: the rule lives there.
    _pending_reply(run, ticket, junior, then_status=None)
    with pytest.raises(ValidationError, match="waiting for approval"):
        run(services.change_status, ticket, to=to, actor=junior)
    _assert_nothing_changed(ticket)


def test_nobody_approves_their_own_reply(run, ticket, junior):
    from django.contrib.auth.models import Permission

    junior.user_permissions.add(Permission.objects.get(codename="approve_reply"))
    junior = type(junior).objects.get(pk=junior.pk)  # fresh permission cache
    reply = _pending_reply(run, ticket, junior)

    with pytest.raises(PermissionDenied):
        run(services.approve_reply, reply, actor=junior)

    reply.refresh_from_db()
    assert reply.approval == Approval.PENDING
    _assert_nothing_changed(ticket)
