"""Auto-replies acknowledge a new ticket once, in the customer's language, and never loop."""

from datetime import timedelta

import pytest
from django.utils import timezone, translation

from mailboxes import outbound
from mailboxes.models import AutoReplyLog, EmailTemplate, Mailbox, OutgoingEmail
from tests.factories import ContactFactory
from tickets import services

Kind = EmailTemplate.Kind


@pytest.fixture
def mailbox(pool):
    return Mailbox.objects.create(
        name="Billing", pool=pool, from_address="billing@acme.test", from_name="Acme Billing"
    )


def _ticket(pool, contact, subject="Invoice charged twice"):
    ticket = services.create_ticket(subject=subject, pool=pool, requester=contact)
    services.add_customer_message(ticket, contact=contact, body_text="Hi", message_id="<m1@x>")
    return ticket


def _auto_reply(ticket, mailbox, address=None, *, may_auto_reply=True):
    request = outbound.AutoReplyRequest(
        ticket=ticket,
        mailbox=mailbox,
        to_address=address or ticket.requester.primary_email,
        may_auto_reply=may_auto_reply,
    )
    return next(iter(outbound.queue_auto_replies([request])), None)


def test_auto_reply_is_queued_once_per_new_ticket(pool, mailbox, customer, mailoutbox):
    ticket = _ticket(pool, customer)
    first = _auto_reply(ticket, mailbox)
    assert _auto_reply(ticket, mailbox) is None, "the ticket has its auto-reply already"
    assert OutgoingEmail.objects.count() == AutoReplyLog.objects.count() == 1
    assert outbound.send_outgoing_emails([first.pk]) == {first.pk}
    [mail] = mailoutbox
    assert mail.extra_headers["Auto-Submitted"] == "auto-replied"
    assert first.subject.endswith(f"[#{ticket.number}]")
    assert customer.name in first.body_text


@pytest.mark.parametrize(
    "address",
    ["billing@acme.test", "BILLING@acme.test", "billing+t9-0123456789@acme.test"],
)
def test_never_to_our_own_mailbox_address(pool, mailbox, customer, address):
    assert _auto_reply(_ticket(pool, customer), mailbox, address) is None
    assert not OutgoingEmail.objects.exists()


def test_never_to_the_default_sender(settings, pool, mailbox, customer):
    settings.DEFAULT_FROM_EMAIL = "Helpdesk <noreply@acme.test>"
    assert _auto_reply(_ticket(pool, customer), mailbox, "noreply@acme.test") is None


def test_never_when_the_parser_says_no_or_the_mailbox_is_silent(pool, mailbox, customer):
    ticket = _ticket(pool, customer)
    assert _auto_reply(ticket, mailbox, may_auto_reply=False) is None
    mailbox.auto_reply = False
    assert _auto_reply(ticket, mailbox) is None
    assert not OutgoingEmail.objects.exists()


def test_hourly_rate_limit_per_address(settings, pool, mailbox, customer):
    settings.AUTO_REPLY_LIMIT_PER_HOUR = 2
    AutoReplyLog.objects.create(
        address=customer.primary_email, sent_at=timezone.now() - timedelta(hours=2)
    )
    answered = [_auto_reply(_ticket(pool, customer), mailbox) for _ in range(3)]
    assert [row is not None for row in answered] == [True, True, False]
    assert _auto_reply(_ticket(pool, ContactFactory()), mailbox) is not None


def test_default_template_speaks_the_customers_language(pool, mailbox):
    contact = ContactFactory(language="pl")
    outgoing = _auto_reply(_ticket(pool, contact), mailbox)
    with translation.override("pl"):
        expected = translation.gettext("This is an automatic message.")
    assert expected in outgoing.body_text
    assert outgoing.body_html.startswith("<!doctype html>")


def test_html_of_the_default_template_escapes_the_subject(pool, mailbox, customer):
    outgoing = _auto_reply(_ticket(pool, customer, subject="<script>x</script>"), mailbox)
    assert "<script>" not in outgoing.body_html
    assert "<script>x</script>" in outgoing.subject  # headers are text, not HTML


def test_admin_template_for_the_mailbox_wins_over_the_pool_and_everyone(pool, mailbox):
    contact = ContactFactory(language="pt-br")
    for scope in ({"pool": pool}, {}, {"mailbox": mailbox}):
        label = "mailbox" if "mailbox" in scope else "pool" if scope else "all"
        EmailTemplate.objects.create(
            kind=Kind.AUTO_REPLY,
            language="pt-br",
            subject=f"{label}: recebemos",
            body_text=f"Olá {{{{ ticket.requester.name }}}}, {label} {{{{ ticket.number }}}}",
            **scope,
        )
    ticket = _ticket(pool, contact)
    outgoing = _auto_reply(ticket, mailbox)
    assert outgoing.subject == f"mailbox: recebemos [#{ticket.number}]"
    assert outgoing.body_text == f"Olá {contact.name}, mailbox {ticket.number}\n"
    assert outgoing.body_html == ""


def test_a_template_in_the_customers_language_wins_over_the_mailbox_language(pool, mailbox):
    EmailTemplate.objects.create(
        kind=Kind.AUTO_REPLY, language="en", mailbox=mailbox, subject="Got it", body_text="Thanks"
    )
    EmailTemplate.objects.create(
        kind=Kind.AUTO_REPLY, language="pl", pool=pool, subject="Otrzymaliśmy", body_text="Dzięki"
    )
    polish = _auto_reply(_ticket(pool, ContactFactory(language="pl")), mailbox)
    english = _auto_reply(_ticket(pool, ContactFactory(language="")), mailbox)
    assert polish.body_text == "Dzięki\n"
    assert english.body_text == "Thanks\n"


def test_a_very_long_subject_fits_the_auto_reply_subject(pool, mailbox, customer):
    ticket = _ticket(pool, customer, subject="ż" * 255)
    outgoing = _auto_reply(ticket, mailbox)
    assert len(outgoing.subject) <= 255
    assert outgoing.subject.endswith(f"[#{ticket.number}]")


def test_a_broken_admin_template_falls_back_to_the_default_text(pool, mailbox, customer):
    EmailTemplate.objects.create(
        kind=Kind.AUTO_REPLY, language="en", mailbox=mailbox, subject="{% if %}", body_text="x"
    )
    outgoing = _auto_reply(_ticket(pool, customer), mailbox)
    assert "This is an automatic message." in outgoing.body_text
