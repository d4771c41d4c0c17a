"""A reply that fails DMARC at the mailbox's trusted server is held, not threaded silently."""

import pytest
from django.urls import reverse

from mailboxes import tokens
from mailboxes.models import RawMessage
from mailboxes.processing import process_raw_messages
from tests.mailboxes.test_processing import build_mail, make_mailbox, receive, store_raw
from tickets.models import ActivityLog, Message

State = RawMessage.State
MX = "mx.helpdesk.test"
FAIL = f"{MX}; spf=softfail smtp.mailfrom=example.test; dmarc=fail header.from=example.test"
PASS = f"{MX}; spf=pass smtp.mailfrom=example.test; dmarc=pass header.from=example.test"


@pytest.fixture
def mailbox(pool):
    mailbox = make_mailbox(pool)
    mailbox.trusted_authserv_id = MX
    mailbox.save()
    return mailbox


@pytest.fixture
def ticket(mailbox):
    return receive(mailbox, build_mail(message_id="<carla-1@example.test>")).ticket


def reply(ticket, *, results=(FAIL,), by="subject", to="support@helpdesk.test", n=2):
    mail = build_mail(
        subject=f"Re: {ticket.tag_label} Printer on fire" if by == "subject" else "Re: printer",
        body="It is still on fire, send the technician to my new address.\n",
        message_id=f"<carla-{n}@example.test>",
        to=to,
    )
    if by == "header":
        mail["In-Reply-To"] = "<carla-1@example.test>"
    for value in results:
        mail["Authentication-Results"] = value
    return mail


def _inbound(ticket):
    return ticket.messages.filter(kind=Message.Kind.INBOUND).count()


def test_a_participants_reply_by_subject_tag_that_fails_dmarc_is_held(mailbox, ticket):
    raw = receive(mailbox, reply(ticket))
    assert (raw.state, raw.reason) == (State.QUARANTINED, RawMessage.Reason.DMARC_FAIL)
    assert raw.ticket == ticket
    assert raw.ticket_message is None
    assert _inbound(ticket) == 1
    held = ActivityLog.objects.get(ticket=ticket, action=ActivityLog.Action.MAIL_HELD)
    assert held.after == "carla@example.test"


def test_a_reply_by_our_message_id_that_fails_dmarc_is_held_too(mailbox, ticket):
    # Message-IDs are not secret: they travel in every References header of the thread.
    raw = receive(mailbox, reply(ticket, by="header"))
    assert raw.state == State.QUARANTINED
    assert _inbound(ticket) == 1


def test_a_reply_to_the_signed_reply_address_joins_even_when_dmarc_fails(mailbox, ticket):
    # The signed token proves the sender holds our mail to this ticket.
    address = tokens.make_reply_address(mailbox.from_address, ticket.pk)
    raw = receive(mailbox, reply(ticket, by="token", to=address))
    assert raw.state == State.PROCESSED
    assert raw.ticket == ticket
    assert _inbound(ticket) == 2


def test_a_reply_that_passes_dmarc_is_threaded_normally(mailbox, ticket):
    raw = receive(mailbox, reply(ticket, results=(PASS,)))
    assert (raw.state, raw.ticket) == (State.PROCESSED, ticket)
    assert _inbound(ticket) == 2


def test_a_mailbox_that_trusts_no_server_threads_as_before(mailbox, ticket):
    mailbox.trusted_authserv_id = ""
    mailbox.save()
    raw = receive(mailbox, reply(ticket))
    assert (raw.state, raw.ticket) == (State.PROCESSED, ticket)


def test_a_new_mail_that_fails_dmarc_opens_its_own_ticket(mailbox):
    mail = build_mail(message_id="<new@example.test>")
    mail["Authentication-Results"] = FAIL
    raw = receive(mailbox, mail)
    assert raw.state == State.PROCESSED
    assert raw.ticket is not None


def test_a_batch_holds_the_same_mail(mailbox, ticket):
    held = store_raw(mailbox, reply(ticket))
    passed = store_raw(mailbox, reply(ticket, results=(PASS,), n=3))
    process_raw_messages([held.pk, passed.pk])
    held.refresh_from_db()
    passed.refresh_from_db()
    assert (held.state, held.ticket) == (State.QUARANTINED, ticket)
    assert passed.state == State.PROCESSED
    assert _inbound(ticket) == 2


def test_releasing_threads_the_mail_as_the_normal_path_would(agent_client, agent, mailbox, ticket):
    raw = receive(mailbox, reply(ticket))
    response = agent_client.post(reverse("mailboxes:release", args=[raw.pk]))
    assert response.status_code == 302
    assert response.url == ticket.get_absolute_url()
    raw.refresh_from_db()
    assert (raw.state, raw.ticket) == (State.PROCESSED, ticket)
    assert raw.ticket_message.body_text.startswith("It is still on fire")
    assert _inbound(ticket) == 2
    released = ActivityLog.objects.get(ticket=ticket, action=ActivityLog.Action.MAIL_RELEASED)
    assert released.actor == agent
    # A second press (another tab, a retry) changes nothing.
    agent_client.post(reverse("mailboxes:release", args=[raw.pk]))
    assert _inbound(ticket) == 2


def test_rejecting_keeps_the_mail_out_with_the_reason(agent_client, agent, mailbox, ticket):
    raw = receive(mailbox, reply(ticket))
    response = agent_client.post(reverse("mailboxes:reject", args=[raw.pk]), {"back": "list"})
    assert response.url == reverse("mailboxes:held_list")
    raw.refresh_from_db()
    assert (raw.state, raw.reason) == (State.REFUSED, RawMessage.Reason.DMARC_FAIL)
    assert "Agent" in raw.error
    assert _inbound(ticket) == 1
    assert ActivityLog.objects.filter(
        ticket=ticket, action=ActivityLog.Action.MAIL_REJECTED, actor=agent
    ).exists()
    agent_client.post(reverse("mailboxes:release", args=[raw.pk]))
    raw.refresh_from_db()
    assert raw.state == State.REFUSED
    assert _inbound(ticket) == 1


def test_the_ticket_page_shows_the_held_mail_with_release_and_reject(agent_client, mailbox, ticket):
    raw = receive(mailbox, reply(ticket))
    page = agent_client.get(ticket.get_absolute_url()).text
    assert f'id="panel-held-{raw.pk}"' in page
    assert "carla@example.test" in page
    assert f'action="{reverse("mailboxes:release", args=[raw.pk])}"' in page
    assert f'action="{reverse("mailboxes:reject", args=[raw.pk])}"' in page


def test_the_held_list_and_page_show_the_mail(agent_client, mailbox, ticket):
    raw = receive(mailbox, reply(ticket))
    listing = agent_client.get(reverse("mailboxes:held_list"))
    assert listing.status_code == 200
    assert f'id="held-{raw.pk}"' in listing.text
    detail = agent_client.get(reverse("mailboxes:held_detail", args=[raw.pk]))
    assert "It is still on fire" in detail.text
    assert "dmarc=fail" in detail.text


HELD_LIST_QUERIES = 6


def test_the_held_list_query_count_does_not_grow_with_rows(
    agent_client, mailbox, ticket, django_assert_max_num_queries
):
    receive(mailbox, reply(ticket))
    with django_assert_max_num_queries(HELD_LIST_QUERIES):
        agent_client.get(reverse("mailboxes:held_list"))
    for n in range(3, 13):
        receive(mailbox, reply(ticket, n=n))
    assert RawMessage.objects.filter(state=State.QUARANTINED).count() == 11
    with django_assert_max_num_queries(HELD_LIST_QUERIES):
        agent_client.get(reverse("mailboxes:held_list"))
