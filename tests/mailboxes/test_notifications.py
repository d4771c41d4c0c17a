"""The notification matrix, event by event, against the outbox.

Every rule here has every kind of recipient ticked, so each test shows who is left out
and why: the person who acted, a requester who already got the mail another way, robots.
"""

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile

from mailboxes.models import (
    EmailTemplate,
    Mailbox,
    NotificationPreference,
    NotificationRule,
    OutgoingEmail,
)
from mailboxes.notifications import is_robot_address
from people.models import Role
from people.services import create_agent
from tickets import services
from tickets.models import PoolMembership
from tickets.services import portal
from tickets.states import Status

Event = NotificationRule.Event
ALL_RECIPIENTS = {
    "to_requester": True,
    "to_assignee": True,
    "to_manager": True,
    "to_watchers": True,
    "to_supervisors": True,
}


@pytest.fixture
def mailbox(pool):
    return Mailbox.objects.create(
        name="Billing", pool=pool, from_address="billing@acme.test", from_name="Acme"
    )


@pytest.fixture
def cast(pool, agent, supervisor, customer, customer_user, mailbox):
    manager = create_agent(username="manager", password=None, email="manager@helpdesk.test")
    watcher = create_agent(username="watcher", password=None, email="watcher@helpdesk.test")
    PoolMembership.objects.create(pool=pool, user=watcher)
    return {
        "agent": agent,
        "supervisor": supervisor,
        "manager": manager,
        "watcher": watcher,
        "customer": customer,
        "customer_user": customer_user,
    }


def _turn_on(event, **recipients):
    """The rule for every pool: on, exactly these recipients (default: all but pool members)."""
    wanted = recipients or ALL_RECIPIENTS
    fields = {name: wanted.get(name, False) for name in [*ALL_RECIPIENTS, "to_pool_members"]}
    NotificationRule.objects.update_or_create(
        event=event, pool=None, defaults={"enabled": True, **fields}
    )


def _addresses(**filters) -> set[str]:
    rows = OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.NOTIFICATION, **filters)
    return {address for row in rows for address in row.to}


def _open(cast, pool):
    return portal.open_ticket_from_portal(
        contact=cast["customer"],
        actor=cast["customer_user"],
        subject="Help",
        description="x",
        pool=pool,
    )


def _ticket(cast, pool, *, assignee=True):
    ticket = _open(cast, pool)
    services.set_manager(ticket, manager=cast["manager"], actor=cast["supervisor"])
    services.add_watcher(ticket, user=cast["watcher"], actor=cast["supervisor"])
    if assignee:
        ticket = services.assign_ticket(ticket, agent=cast["agent"], actor=cast["agent"])
    ticket.refresh_from_db()
    return ticket


CUSTOMER = "customer0@example.test"
AGENT, SUPERVISOR = "agent@helpdesk.test", "supervisor@helpdesk.test"
MANAGER, WATCHER = "manager@helpdesk.test", "watcher@helpdesk.test"


@pytest.fixture
def run(django_capture_on_commit_callbacks, eager_tasks):
    """Run a change and its after-commit reactions (notifications, sending)."""

    def do(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()

    return do


def _customer(cast):
    return cast["customer"].primary_email


def test_ticket_opened_on_the_portal_tells_the_requester_and_the_supervisors(cast, pool, run):
    _turn_on(Event.TICKET_OPENED)
    run(lambda: _open(cast, pool))
    assert _addresses() == {_customer(cast), SUPERVISOR}


def test_ticket_opened_by_mail_leaves_the_requester_to_the_mailbox_auto_reply(
    cast, pool, run, mailbox
):
    _turn_on(Event.TICKET_OPENED)
    run(
        lambda: services.create_ticket(
            subject="By mail", pool=pool, requester=cast["customer"], channel="email"
        )
    )
    assert _addresses() == {SUPERVISOR}


def test_ticket_taken_tells_everyone_but_the_agent_who_took_it(cast, pool, run):
    ticket = _ticket(cast, pool, assignee=False)
    _turn_on(Event.TICKET_TAKEN)
    run(lambda: services.assign_ticket(ticket, agent=cast["agent"], actor=cast["agent"]))
    assert _addresses() == {_customer(cast), MANAGER, WATCHER, SUPERVISOR}


def test_work_started_is_sent_when_the_agent_first_answers(cast, pool, run):
    ticket = _ticket(cast, pool)
    _turn_on(Event.TICKET_STARTED)
    run(lambda: services.add_reply(ticket, author=cast["agent"], body="Looking"))
    assert _addresses() == {_customer(cast), MANAGER, WATCHER, SUPERVISOR}


def test_customer_message_tells_the_team_not_the_customer(cast, pool, run):
    ticket = _ticket(cast, pool)
    _turn_on(Event.CUSTOMER_MESSAGE)
    run(lambda: portal.reply_from_portal(ticket, contact=cast["customer"], body="Any news?"))
    assert _addresses() == {AGENT, MANAGER, WATCHER, SUPERVISOR}
    body = OutgoingEmail.objects.filter(to=[AGENT]).get().body_text
    assert "Any news?" in body


def test_agent_message_is_not_mailed_twice_to_the_customer(cast, pool, run):
    ticket = _ticket(cast, pool)
    _turn_on(Event.AGENT_MESSAGE)
    run(lambda: services.add_reply(ticket, author=cast["agent"], body="Here you go"))
    assert _addresses() == {MANAGER, WATCHER, SUPERVISOR}
    reply = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.REPLY)
    assert reply.to == [_customer(cast)]


def test_a_junior_reply_notifies_only_once_approved(cast, pool, run, junior):
    ticket = _ticket(cast, pool)
    _turn_on(Event.AGENT_MESSAGE)
    message = run(lambda: services.add_reply(ticket, author=junior, body="Draft"))
    assert _addresses() == set()
    run(lambda: services.approve_reply(message, actor=cast["supervisor"], body="Draft"))
    assert _addresses() == {AGENT, MANAGER, WATCHER}


def test_resolved_asks_the_customer_to_confirm(cast, pool, run):
    ticket = _ticket(cast, pool)
    _turn_on(Event.TICKET_RESOLVED)
    run(lambda: services.change_status(ticket, to=Status.RESOLVED, actor=cast["agent"]))
    assert _addresses() == {_customer(cast), MANAGER, WATCHER, SUPERVISOR}
    mine = OutgoingEmail.objects.get(to=[_customer(cast)])
    assert f"/portal/tickets/{ticket.number}/" in mine.body_text
    assert "We think your problem is solved." in mine.body_text
    theirs = OutgoingEmail.objects.get(to=[MANAGER])
    assert "The ticket was resolved." in theirs.body_text
    assert f"/tickets/{ticket.number}/" in theirs.body_text
    assert not theirs.reply_to  # an agent's answer must not land in the customer's thread
    assert mine.reply_to.startswith("billing+t")
    assert mine.headers["Auto-Submitted"] == "auto-generated"
    assert f"[#{ticket.number}]" in mine.subject


def _resolved(cast, pool):
    ticket = _ticket(cast, pool)
    services.change_status(ticket, to=Status.RESOLVED, actor=cast["agent"])
    ticket.refresh_from_db()
    return ticket


def test_resolution_approved_tells_the_team(cast, pool, run):
    ticket = _resolved(cast, pool)
    _turn_on(Event.RESOLUTION_APPROVED)
    run(lambda: portal.approve_resolution(ticket, actor=cast["customer_user"]))
    assert _addresses() == {AGENT, MANAGER, WATCHER, SUPERVISOR}


def test_resolution_rejected_tells_the_team_with_the_reason(cast, pool, run):
    ticket = _resolved(cast, pool)
    _turn_on(Event.RESOLUTION_REJECTED)
    run(lambda: portal.reject_resolution(ticket, actor=cast["customer_user"], reason="Nope"))
    assert _addresses() == {AGENT, MANAGER, WATCHER, SUPERVISOR}
    assert "Nope" in OutgoingEmail.objects.filter(to=[AGENT]).get().body_text


def test_survey_answered_tells_the_team(cast, pool, run):
    from surveys.models import PoolSurveySettings, Question, Questionnaire
    from surveys.services import answer_satisfaction

    questionnaire = Questionnaire.objects.create(name="CSAT", kind=Questionnaire.Kind.SATISFACTION)
    question = Question.objects.create(
        questionnaire=questionnaire, text="Happy?", kind=Question.Kind.RATING
    )
    PoolSurveySettings.objects.create(
        pool=pool, satisfaction_enabled=True, satisfaction_questionnaire=questionnaire
    )
    ticket = _resolved(cast, pool)
    run(lambda: portal.approve_resolution(ticket, actor=cast["customer_user"]))
    invitation = ticket.survey_invitations.get()
    _turn_on(Event.SURVEY_ANSWERED)
    run(lambda: answer_satisfaction(invitation, answers=[(question, 5)]))
    assert _addresses(subject__startswith="Survey answered") == {
        AGENT,
        MANAGER,
        WATCHER,
        SUPERVISOR,
    }


def test_cancelled_by_the_customer_is_not_mailed_back_to_them(cast, pool, run):
    ticket = _ticket(cast, pool)
    _turn_on(Event.TICKET_CANCELLED)
    run(lambda: portal.cancel_ticket(ticket, actor=cast["customer_user"]))
    assert _addresses() == {AGENT, MANAGER, WATCHER, SUPERVISOR}


def test_cancelled_by_an_agent_is_mailed_to_the_customer(cast, pool, run):
    ticket = _ticket(cast, pool)
    _turn_on(Event.TICKET_CANCELLED)
    run(lambda: services.change_status(ticket, to=Status.CANCELLED, actor=cast["agent"]))
    assert _addresses() == {_customer(cast), MANAGER, WATCHER, SUPERVISOR}


def test_pool_members_hear_of_new_tickets_only_when_they_chose_to(cast, pool, run, other_pool):
    _turn_on(Event.TICKET_OPENED, to_pool_members=True)
    run(lambda: _open(cast, pool))
    assert _addresses() == set()  # "new ticket in my pools" is off by default
    NotificationPreference.objects.create(user=cast["watcher"], new_ticket="immediate")
    run(lambda: _open(cast, pool))
    assert _addresses() == {WATCHER}


def test_a_rule_that_is_off_sends_nothing(cast, pool, run):
    NotificationRule.objects.filter(event=Event.TICKET_OPENED).update(
        enabled=False, to_requester=True, to_supervisors=True
    )
    run(lambda: _ticket(cast, pool, assignee=False))
    assert _addresses() == set()


def test_a_pools_own_rule_replaces_the_rule_for_every_pool(cast, pool, run):
    _turn_on(Event.TICKET_OPENED)
    NotificationRule.objects.create(event=Event.TICKET_OPENED, pool=pool, enabled=False)
    run(lambda: _ticket(cast, pool, assignee=False))
    assert _addresses() == set()


def test_each_recipient_gets_the_template_in_their_language(cast, pool, run):
    cast["customer"].language = "pt-br"
    cast["customer"].save(update_fields=["language"])
    _turn_on(Event.TICKET_RESOLVED, to_requester=True, to_manager=True)
    EmailTemplate.objects.create(
        kind=EmailTemplate.Kind.TICKET_RESOLVED,
        language="pt-br",
        subject="Resolvido: {{ ticket.subject }}",
        body_text="Olá {{ recipient_name }}, confirme: {{ link }}",
    )
    ticket = _ticket(cast, pool)
    run(lambda: services.change_status(ticket, to=Status.RESOLVED, actor=cast["agent"]))
    mine = OutgoingEmail.objects.get(to=[_customer(cast)])
    assert mine.subject == f"Resolvido: Help [#{ticket.number}]"
    assert mine.body_text.startswith("Olá Carla Cliente, confirme: http")
    managers = OutgoingEmail.objects.get(to=[MANAGER])
    assert managers.subject.startswith("Ticket resolved: Help")


def test_notifications_go_through_the_outbox_and_are_sent(cast, pool, run):
    _turn_on(Event.TICKET_OPENED)
    run(lambda: _ticket(cast, pool, assignee=False))
    rows = OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.NOTIFICATION)
    assert {row.state for row in rows} == {OutgoingEmail.State.SENT}
    assert sorted(message.to[0] for message in mail.outbox) == sorted(_addresses())
    assert all(
        message.extra_headers["Auto-Submitted"] == "auto-generated" for message in mail.outbox
    )


@pytest.mark.parametrize(
    "address",
    ["noreply@shop.test", "no-reply@shop.test", "MAILER-DAEMON@mx.test", "billing@acme.test"],
)
def test_robot_addresses_are_recognised(mailbox, address):
    assert is_robot_address(address)


def test_a_robot_requester_is_never_notified(cast, pool, run, customer):
    email = customer.emails.get()
    email.address = "noreply@shop.test"
    email.save()
    _turn_on(Event.TICKET_RESOLVED)
    ticket = _ticket(cast, pool)
    run(lambda: services.change_status(ticket, to=Status.RESOLVED, actor=cast["agent"]))
    assert "noreply@shop.test" not in _addresses()
    assert _addresses() == {MANAGER, WATCHER, SUPERVISOR}


def test_a_requester_whose_mail_was_automatic_is_never_notified(cast, pool, run, mailbox):
    from django.core.files.base import ContentFile

    from mailboxes.models import RawMessage
    from mailboxes.processing import process_raw_messages

    mailbox.accept_bulk_mail = True  # else list mail opens no ticket at all
    mailbox.save(update_fields=["accept_bulk_mail"])
    raw_bytes = (
        b"From: Shop Robot <orders@shop.test>\r\nTo: billing@acme.test\r\n"
        b"Subject: Order 42\r\nMessage-ID: <order42@shop.test>\r\n"
        b"Precedence: bulk\r\nList-Id: <orders.shop.test>\r\n\r\nYour order.\r\n"
    )
    raw = RawMessage(
        mailbox=mailbox,
        uid="1",
        message_id="<order42@shop.test>",
        sha256="x" * 64,
        size=len(raw_bytes),
    )
    raw.file.save("order.eml", ContentFile(raw_bytes), save=False)
    raw.save()
    process_raw_messages([raw.pk])[0]
    raw.refresh_from_db()
    ticket = raw.ticket
    assert ticket is not None
    _turn_on(Event.TICKET_RESOLVED)
    run(lambda: services.change_status(ticket, to=Status.RESOLVED, actor=cast["agent"]))
    assert "orders@shop.test" not in _addresses()


def test_nothing_is_sent_when_no_rule_is_on(cast, pool, run):
    ticket = run(lambda: _ticket(cast, pool))
    run(lambda: services.add_reply(ticket, author=cast["agent"], body="x"))
    run(lambda: services.change_status(ticket, to=Status.RESOLVED, actor=cast["agent"]))
    assert _addresses() == set()


def test_a_supervisor_role_comes_from_the_group(cast, pool, run):
    create_agent(username="boss", password=None, email="boss@helpdesk.test", role=Role.SUPERVISOR)
    _turn_on(Event.TICKET_OPENED, to_supervisors=True)
    run(lambda: _open(cast, pool))
    assert _addresses() == {SUPERVISOR, "boss@helpdesk.test"}


def test_files_are_not_attached_to_notifications(cast, pool, run):
    ticket = _ticket(cast, pool)
    _turn_on(Event.CUSTOMER_MESSAGE)
    run(
        lambda: portal.reply_from_portal(
            ticket,
            contact=cast["customer"],
            body="see file",
            files=[SimpleUploadedFile("secret.pdf", b"%PDF")],
        )
    )
    assert all(not message.attachments for message in mail.outbox)


def test_a_template_that_does_not_compile_falls_back_to_the_built_in_text(cast, pool, run):
    _turn_on(Event.TICKET_RESOLVED, to_manager=True)
    EmailTemplate.objects.create(
        kind=EmailTemplate.Kind.TICKET_RESOLVED,
        language="en",
        subject="{% if %}",
        body_text="{{ broken",
    )
    ticket = _ticket(cast, pool)
    run(lambda: services.change_status(ticket, to=Status.RESOLVED, actor=cast["agent"]))
    ticket.refresh_from_db()
    assert ticket.status == Status.RESOLVED
    assert "The ticket was resolved." in OutgoingEmail.objects.get(to=[MANAGER]).body_text


def test_a_mailed_answer_to_a_notification_joins_the_portal_ticket(cast, pool, run, mailbox):
    from mailboxes.processing import process_raw_messages
    from tests.mailboxes.test_processing import build_mail, store_raw

    _turn_on(Event.TICKET_RESOLVED, to_requester=True)
    ticket = _ticket(cast, pool)
    run(lambda: services.change_status(ticket, to=Status.RESOLVED, actor=cast["agent"]))
    sent = OutgoingEmail.objects.get(to=[_customer(cast)])
    answer = build_mail(
        sender=f"Carla <{_customer(cast)}>",
        to=sent.reply_to,
        subject=f"Re: {sent.subject}",
        body="Not solved, sorry.\n",
        message_id="<answer@example.test>",
        headers={"In-Reply-To": sent.message_id, "References": sent.message_id},
    )
    raw = process_raw_messages([store_raw(mailbox, answer).pk])[0]
    assert raw.ticket_id == ticket.pk
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert ticket.messages.filter(body_text__startswith="Not solved").exists()


def test_an_automatic_answer_to_a_notification_is_never_a_customer_message(
    cast, pool, run, mailbox
):
    from mailboxes.processing import process_raw_messages
    from tests.mailboxes.test_processing import build_mail, store_raw

    _turn_on(Event.TICKET_RESOLVED, to_requester=True)
    ticket = _ticket(cast, pool)
    run(lambda: services.change_status(ticket, to=Status.RESOLVED, actor=cast["agent"]))
    sent = OutgoingEmail.objects.get(to=[_customer(cast)])
    # The customer's robot answers our notification: RFC 3834, ignored, not a message.
    robot = build_mail(
        sender=f"Carla <{_customer(cast)}>",
        to=sent.reply_to,
        subject=f"Out of office: {sent.subject}",
        message_id="<ooo@example.test>",
        headers={"In-Reply-To": sent.message_id, "Auto-Submitted": "auto-replied"},
    )
    raw = process_raw_messages([store_raw(mailbox, robot).pk])[0]
    assert raw.state == "ignored"
    assert ticket.messages.count() == 1
