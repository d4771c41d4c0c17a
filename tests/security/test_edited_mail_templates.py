"""Admin-edited mail templates print plain values from an allowlist, never model objects."""

import pytest
from django.urls import reverse

from mailboxes.emails import render_auto_reply
from mailboxes.models import EmailTemplate, Mailbox, NotificationRule, NotificationTemplate
from mailboxes.notifications import EventInfo, Recipient, render_notification
from people.models import Department
from sla.models import NotificationTemplate as SlaTemplate
from sla.notifications import render_mail
from tickets import services

# Each of these walked from the template's objects to a secret before.
PROBES = (
    "[{{ mailbox.password }}]"
    "[{{ ticket.requester.user.password }}]"
    "[{{ ticket.assignee.password }}]"
    "[{{ ticket.pool.mailboxes.first.password }}]"
    "[{{ user.password }}]"
    "[{{ consultant.password }}]"
    "[{{ consultation.ticket.requester.user.password }}]"
)
EMPTY = "[]" * 7


@pytest.fixture
def mailbox(pool):
    return Mailbox.objects.create(
        name="Billing",
        pool=pool,
        kind=Mailbox.Kind.IMAP,
        password="imap-Secret-42",
        from_address="billing@acme.test",
        from_name="Acme Billing",
    )


@pytest.fixture
def ticket(pool, customer, customer_user, agent):
    ticket = services.create_ticket(subject="Invoice charged twice", pool=pool, requester=customer)
    ticket.assignee = agent
    ticket.save(update_fields=["assignee"])
    return ticket


def test_an_edited_auto_reply_cannot_print_the_mailbox_password_or_password_hashes(ticket, mailbox):
    EmailTemplate.objects.create(
        kind=EmailTemplate.Kind.AUTO_REPLY, language="en", subject="Got it", body=PROBES
    )
    rendered = render_auto_reply(ticket, mailbox=mailbox)
    assert rendered.body_text == EMPTY + "\n"


def test_an_edited_notification_cannot_print_password_hashes(ticket, agent):
    rule, _ = NotificationRule.objects.get_or_create(event=NotificationRule.Event.TICKET_OPENED)
    NotificationTemplate.objects.create(rule=rule, language="en", subject="New", body=PROBES)
    info = EventInfo(event=rule.event, ticket=ticket, actor=agent)
    recipient = Recipient(address="agent@helpdesk.test", name="Agent", language="en")
    assert render_notification(rule, info, recipient).body_text == EMPTY + "\n"


def test_an_edited_sla_mail_cannot_print_password_hashes(ticket, agent):
    SlaTemplate.objects.create(
        kind="consultation_question", language="en", subject="Question", body=PROBES
    )
    department = Department.objects.create(name="Legal", email="legal@acme.test")
    context = {"ticket": ticket, "department": department, "question": "?", "consultant": agent}
    assert render_mail("consultation_question", context).body_text == EMPTY + "\n"


def test_edited_mail_prints_the_documented_plain_values(ticket, mailbox, customer, agent):
    EmailTemplate.objects.create(
        kind=EmailTemplate.Kind.AUTO_REPLY,
        language="en",
        subject="{{ ticket.subject }}",
        body=(
            "{{ ticket.number }}|{{ ticket.customer_name }}|{{ ticket.requester.name }}|"
            "{{ ticket.agent_name }}|{{ ticket.pool }}|{{ ticket.url }}|{{ mailbox.from_name }}|"
            "{{ portal_url }}|{{ ticket }}"
        ),
    )
    rendered = render_auto_reply(ticket, mailbox=mailbox)
    assert rendered.subject == f"Invoice charged twice {ticket.tag_label}"
    assert rendered.body_text.strip().split("|") == [
        ticket.number,
        customer.name,
        customer.name,
        agent.get_full_name() or agent.username,
        "Billing",
        f"http://127.0.0.1:8000/portal/tickets/{ticket.number}/",
        "Acme Billing",
        "http://127.0.0.1:8000/portal/",
        str(ticket),
    ]


@pytest.mark.parametrize(
    "body",
    [
        "{% debug %}",
        "{% load log %}{% get_admin_log 10 as log %}{{ log }}",
        '{% include "mailboxes/emails/auto_reply.txt" %}',
        "{% url 'admin:index' %}",
    ],
)
def test_edited_mail_cannot_dump_the_context_load_libraries_or_include_files(ticket, mailbox, body):
    EmailTemplate.objects.create(
        kind=EmailTemplate.Kind.AUTO_REPLY, language="en", subject="Got it", body=body
    )
    rendered = render_auto_reply(ticket, mailbox=mailbox)
    # The default text goes out instead, as for any template that does not compile.
    assert rendered.subject.startswith("We received your message")
    assert "imap-Secret-42" not in rendered.body_text


def test_every_mail_template_editor_lists_its_variables(admin_client):
    for url, variable in (
        (reverse("admin:mailboxes_emailtemplate_add"), "portal_url"),
        (reverse("admin:mailboxes_notificationrule_add"), "recipient_name"),
        (reverse("admin:sla_notificationtemplate_add"), "response_hours"),
    ):
        response = admin_client.get(url)
        assert response.status_code == 200
        assert "<code>{{ ticket }}</code>" in response.text, url
        assert f"<code>{{{{ {variable} }}}}</code>" in response.text, url
