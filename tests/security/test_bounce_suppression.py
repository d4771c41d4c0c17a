"""A permanent bounce suppresses the address: no automatic mail, warnings, a confirmed reply.

Mailing an address that bounced permanently again and again gets our domain marked as a
spammer. Once a DSN 5.x.x comes back for mail we sent, no automatic mail goes there;
agents see a warning on the ticket, admins on the contact; a hand-written reply needs an
explicit confirmation; an admin lifts the suppression from a list.
"""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from mailboxes.models import NotificationRule, OutgoingEmail, SuppressedAddress
from mailboxes.notifications import Notice, notify, queue_sign_in_email
from mailboxes.outbound import AutoReplyRequest, queue_auto_replies, queue_notification
from mailboxes.processing import process_raw_messages
from mailboxes.suppression import suppress_addresses
from people.models import ContactEmail
from tests.mailboxes.test_delivery_reports import report
from tests.mailboxes.test_processing import build_mail, receive, store_raw
from tickets import services
from tickets.models import Message
from tickets.states import Status

CARLA = "carla@example.test"


@pytest.fixture
def ticket(mailbox):
    return receive(mailbox, build_mail()).ticket


@pytest.fixture
def suppressed(ticket):
    row = SuppressedAddress(address=CARLA, reason="bounced", dsn_status="5.1.1", ticket=ticket)
    return suppress_addresses([row])[0]


@pytest.fixture
def staff_client(client, admin_user):
    client.force_login(admin_user)
    return client


def auto_replies():
    return OutgoingEmail.objects.filter(kind=OutgoingEmail.Kind.AUTO_REPLY)


def test_a_permanent_bounce_of_our_reply_suppresses_the_customer(mailbox, ticket):
    sent = OutgoingEmail.objects.create(
        ticket=ticket,
        from_address="support@helpdesk.test",
        to=[CARLA],
        subject="Re: Printer on fire",
        body_text="On it.",
        message_id="<reply-1@helpdesk.test>",
        state=OutgoingEmail.State.SENT,
    )
    receive(mailbox, report(sent.message_id, (CARLA, "failed", "5.2.1")))
    assert SuppressedAddress.objects.active().get().address == CARLA


@pytest.mark.parametrize("batched", [False, True], ids=["alone", "batch"])
def test_no_auto_reply_goes_to_a_suppressed_address(mailbox, suppressed, batched):
    auto_replies().delete()
    mail = build_mail(subject="Another one", message_id="<again@example.test>")
    if batched:
        process_raw_messages([store_raw(mailbox, mail).pk])
    else:
        receive(mailbox, mail)
    assert Message.objects.filter(message_id="<again@example.test>").exists()  # still a ticket
    assert not auto_replies().exists()


def test_no_notification_goes_to_a_suppressed_address(ticket, suppressed, agent):
    NotificationRule.objects.update_or_create(
        event=NotificationRule.Event.TICKET_RESOLVED,
        pool=None,
        defaults={"enabled": True, "to_requester": True, "to_assignee": True},
    )
    services.assign_ticket(ticket, agent=agent, actor=agent)
    queued = notify("ticket_resolved", [Notice(ticket)])
    assert [row.to for row in queued] == [[agent.email]]


def test_no_reminder_goes_to_a_suppressed_address(ticket, suppressed):
    assert queue_notification(ticket, to=[CARLA], subject="Reminder", body_text="x") is None
    both = queue_notification(ticket, to=[CARLA, "boss@helpdesk.test"], subject="R", body_text="x")
    assert both.to == ["boss@helpdesk.test"]


def test_a_sign_in_link_the_customer_asked_for_still_goes(ticket, suppressed):
    contact = ticket.requester
    outgoing = queue_sign_in_email(
        contact=contact, address=CARLA, url="https://help.test/x", expires_at=ticket.created_at
    )
    assert outgoing is not None


def test_an_agent_reply_to_a_suppressed_address_needs_an_explicit_confirmation(
    ticket, suppressed, agent
):
    with pytest.raises(ValidationError, match="bounced permanently"):
        services.add_reply(ticket, author=agent, body="Did you get this?")
    assert not Message.objects.filter(kind=Message.Kind.OUTBOUND).exists()
    services.add_reply(ticket, author=agent, body="Did you get this?", confirmed=True)
    assert Message.objects.filter(kind=Message.Kind.OUTBOUND).count() == 1


def test_the_reply_form_refuses_until_the_agent_ticks_send_anyway(ticket, suppressed, agent_client):
    url = reverse("tickets:reply", args=[ticket.number])
    refused = agent_client.post(url, {"body": "Hello again"})
    assert refused.status_code == 400
    assert "bounced permanently" in refused.content.decode()
    assert not Message.objects.filter(kind=Message.Kind.OUTBOUND).exists()
    sent = agent_client.post(url, {"body": "Hello again", "confirmed": "on"})
    assert sent.status_code == 302
    assert Message.objects.filter(kind=Message.Kind.OUTBOUND).count() == 1


def test_the_ticket_page_warns_about_a_suppressed_requester(ticket, suppressed, agent_client):
    page = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert 'id="panel-suppressed"' in page
    assert "carla@example.test bounced permanently (5.1.1)" in page
    assert 'name="confirmed"' in page
    # An agent is no admin: no link to the suppression list.
    assert reverse("admin:mailboxes_suppressedaddress_changelist") not in page


def test_a_ticket_page_without_a_suppression_shows_no_warning(ticket, agent_client):
    page = agent_client.get(ticket.get_absolute_url()).content.decode()
    assert "panel-suppressed" not in page
    assert 'name="confirmed"' not in page


def test_the_contact_admin_page_warns_about_a_suppressed_address(ticket, suppressed, staff_client):
    contact = ContactEmail.objects.get(address=CARLA).contact
    page = staff_client.get(reverse("admin:people_contact_change", args=[contact.pk]))
    assert "carla@example.test bounced permanently (5.1.1)" in page.content.decode().lower()


def test_an_admin_lists_and_lifts_a_suppression_and_automatic_mail_flows_again(
    mailbox, ticket, suppressed, staff_client, admin_user
):
    changelist = reverse("admin:mailboxes_suppressedaddress_changelist")
    assert CARLA in staff_client.get(changelist + "?standing=yes").content.decode()
    staff_client.post(changelist, {"action": "lift", "_selected_action": [suppressed.pk]})
    suppressed.refresh_from_db()
    assert suppressed.lifted_at is not None
    assert suppressed.lifted_by == admin_user
    assert CARLA not in staff_client.get(changelist + "?standing=yes").content.decode()
    auto_replies().delete()
    ticket.status = Status.NEW
    again = queue_auto_replies(
        [AutoReplyRequest(ticket=ticket, mailbox=mailbox, to_address=CARLA, may_auto_reply=True)]
    )
    assert again != []
    # A later bounce suppresses the address again; the lifted row stays as history.
    again_row = SuppressedAddress(address=CARLA, reason="bounced again", dsn_status="5.1.1")
    assert suppress_addresses([again_row]) == [again_row]
    assert SuppressedAddress.objects.count() == 2


def test_an_agent_cannot_open_the_suppression_list(agent_client):
    changelist = reverse("admin:mailboxes_suppressedaddress_changelist")
    assert agent_client.get(changelist).status_code == 302
