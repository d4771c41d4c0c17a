"""Spoofed replies (issue 10): mail failing DMARC never joins a ticket silently, only the
ticket's own agents decide, and an Authentication-Results header anyone could add counts
for nothing."""

import pytest
from django.urls import reverse

from mailboxes.models import RawMessage
from tests.mailboxes.test_held_mail import FAIL, MX, PASS, reply
from tests.mailboxes.test_processing import build_mail, make_mailbox, receive
from tickets.models import Message

State = RawMessage.State


@pytest.fixture
def mailbox(pool):
    mailbox = make_mailbox(pool)
    mailbox.trusted_authserv_id = MX
    mailbox.save()
    return mailbox


@pytest.fixture
def ticket(mailbox):
    return receive(mailbox, build_mail(message_id="<carla-1@example.test>")).ticket


@pytest.fixture
def held(mailbox, ticket):
    raw = receive(mailbox, reply(ticket))
    assert raw.state == State.QUARANTINED
    return raw


def _inbound(ticket):
    return ticket.messages.filter(kind=Message.Kind.INBOUND).count()


def test_an_agent_of_another_pool_cannot_see_release_or_reject_held_mail(
    client, other_agent, held, ticket
):
    client.force_login(other_agent)
    assert f'id="held-{held.pk}"' not in client.get(reverse("mailboxes:held_list")).text
    for name in ("held_detail", "release", "reject"):
        url = reverse(f"mailboxes:{name}", args=[held.pk])
        response = client.post(url) if name != "held_detail" else client.get(url)
        assert response.status_code == 404, name
    held.refresh_from_db()
    assert held.state == State.QUARANTINED
    assert _inbound(ticket) == 1


def test_customers_and_anonymous_visitors_reach_no_held_mail(client, customer_user, held):
    url = reverse("mailboxes:release", args=[held.pk])
    assert client.post(url).status_code == 302  # to sign in
    client.force_login(customer_user)
    assert client.post(url).status_code == 404
    assert client.get(reverse("mailboxes:held_list")).status_code == 404
    held.refresh_from_db()
    assert held.state == State.QUARANTINED


def test_release_and_reject_are_never_done_by_a_get(agent_client, held):
    for name in ("release", "reject"):
        response = agent_client.get(reverse(f"mailboxes:{name}", args=[held.pk]))
        assert response.status_code == 405
    held.refresh_from_db()
    assert held.state == State.QUARANTINED


def test_a_supervisor_may_decide_on_any_pools_held_mail(client, supervisor, held, ticket):
    client.force_login(supervisor)
    assert client.post(reverse("mailboxes:release", args=[held.pk])).status_code == 302
    assert _inbound(ticket) == 2


def test_a_pass_from_a_server_the_mailbox_does_not_trust_is_ignored(mailbox, ticket):
    # Anyone can write "dmarc=pass" into a header of the mail they send.
    forged = "mx.evil.test; dmarc=pass header.from=example.test"
    raw = receive(mailbox, reply(ticket, results=(FAIL, forged)))
    assert raw.state == State.QUARANTINED
    raw = receive(mailbox, reply(ticket, results=(forged, FAIL), n=3))
    assert raw.state == State.QUARANTINED


def test_a_fail_from_a_server_the_mailbox_does_not_trust_holds_nothing(mailbox, ticket):
    forged = "mx.evil.test; dmarc=fail header.from=example.test"
    raw = receive(mailbox, reply(ticket, results=(forged,)))
    assert (raw.state, raw.ticket) == (State.PROCESSED, ticket)


def test_a_forged_pass_with_the_trusted_name_below_the_real_fail_does_not_count(mailbox, ticket):
    raw = receive(mailbox, reply(ticket, results=(FAIL, PASS)))
    assert raw.state == State.QUARANTINED
    assert _inbound(ticket) == 1


def test_a_stranger_failing_dmarc_still_gets_a_linked_ticket_not_a_hold(mailbox, ticket):
    mail = reply(ticket)
    mail.replace_header("From", "Mallory <mallory@evil.test>")
    raw = receive(mailbox, mail)
    assert raw.state == State.PROCESSED
    assert raw.ticket != ticket
    assert list(raw.ticket.linked_tickets.all()) == [ticket]


def test_a_forged_department_answer_is_held_and_released_as_the_answer(
    client, agent, mailbox, ticket
):
    from people.models import Department
    from sla.models import Consultation
    from sla.services import start_consultation

    legal = Department.objects.create(name="Legal", email="legal@acme.test")
    consultation = start_consultation(ticket, department=legal, question="OK?", actor=agent)
    mail = build_mail(
        sender="Legal <legal@acme.test>",
        subject="Re: question",
        message_id="<legal-1@acme.test>",
        headers={"In-Reply-To": consultation.question.message_id},
    )
    mail["Authentication-Results"] = f"{MX}; dmarc=fail header.from=acme.test"
    raw = receive(mailbox, mail)
    assert (raw.state, raw.ticket) == (State.QUARANTINED, ticket)
    assert Consultation.objects.get().state == "open"
    client.force_login(agent)
    client.post(reverse("mailboxes:release", args=[raw.pk]))
    raw.refresh_from_db()
    assert (raw.state, raw.ticket) == (State.PROCESSED, ticket)
    assert raw.ticket_message.kind == Message.Kind.CONSULTATION
    assert Consultation.objects.get().state != "open"
