"""Admin-edited mail templates print plain values from an allowlist, never model objects."""

import pytest
from django.urls import reverse

from mailboxes.emails import auto_reply_email
from mailboxes.models import EmailTemplate, Mailbox, NotificationRule
from mailboxes.notifications import EventInfo, Recipient, notification_email
from people.models import Department
from sla.notifications import sla_email
from tickets import services

Kind = EmailTemplate.Kind

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
        kind=Kind.AUTO_REPLY, language="en", subject="Got it", body_text=PROBES, body_html=PROBES
    )
    rendered = auto_reply_email(ticket, mailbox=mailbox)
    assert rendered.body_text == EMPTY + "\n"
    assert rendered.body_html == EMPTY


def test_an_edited_notification_cannot_print_password_hashes(ticket, agent):
    rule, _ = NotificationRule.objects.get_or_create(event=NotificationRule.Event.TICKET_OPENED)
    EmailTemplate.objects.create(
        kind=Kind.TICKET_OPENED, language="en", subject="New", body_text=PROBES
    )
    info = EventInfo(event=rule.event, ticket=ticket, actor=agent)
    recipient = Recipient(address="agent@helpdesk.test", name="Agent", language="en")
    assert notification_email(info, recipient).body_text == EMPTY + "\n"


def test_an_edited_sla_mail_cannot_print_password_hashes(ticket, agent):
    EmailTemplate.objects.create(
        kind=Kind.SLA_CONSULTATION_QUESTION, language="en", subject="Question", body_text=PROBES
    )
    department = Department.objects.create(name="Legal", email="legal@acme.test")
    context = {"ticket": ticket, "department": department, "question": "?", "consultant": agent}
    assert sla_email("consultation_question", context).body_text == EMPTY + "\n"


def test_an_edited_html_part_escapes_what_the_customer_wrote(ticket, mailbox):
    ticket.subject = '<img src=x onerror="alert(1)">'
    ticket.save(update_fields=["subject"])
    EmailTemplate.objects.create(
        kind=Kind.AUTO_REPLY,
        language="en",
        subject="{{ ticket.subject }}",
        body_text="{{ ticket.subject }}",
        body_html="<p>{{ ticket.subject }}</p>",
    )
    rendered = auto_reply_email(ticket, mailbox=mailbox)
    assert rendered.body_text.startswith('<img src=x onerror="alert(1)">')
    assert rendered.body_html == "<p>&lt;img src=x onerror=&quot;alert(1)&quot;&gt;</p>"


def test_edited_mail_prints_the_documented_plain_values(ticket, mailbox, customer, agent):
    EmailTemplate.objects.create(
        kind=Kind.AUTO_REPLY,
        language="en",
        subject="{{ ticket.subject }}",
        body_text=(
            "{{ ticket.number }}|{{ ticket.customer_name }}|{{ ticket.requester.name }}|"
            "{{ ticket.agent_name }}|{{ ticket.pool }}|{{ ticket.url }}|{{ mailbox.from_name }}|"
            "{{ portal_url }}|{{ ticket }}"
        ),
    )
    rendered = auto_reply_email(ticket, mailbox=mailbox)
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
        kind=Kind.AUTO_REPLY, language="en", subject="Got it", body_text=body
    )
    rendered = auto_reply_email(ticket, mailbox=mailbox)
    # The default text goes out instead, as for any template that does not compile.
    assert rendered.subject.startswith("We received your message")
    assert "imap-Secret-42" not in rendered.body_text


def test_every_mail_template_editor_lists_its_variables(admin_client):
    add = reverse("admin:mailboxes_emailtemplate_add")
    for kind, variable, elsewhere in (
        (Kind.AUTO_REPLY, "portal_url", "recipient_name"),
        (Kind.TICKET_OPENED, "recipient_name", "portal_url"),
        (Kind.SLA_CONSULTATION_QUESTION, "response_hours", "recipient_name"),
    ):
        url = f"{add}?kind={kind}"
        response = admin_client.get(url)
        assert response.status_code == 200
        assert "<code>{{ ticket }}</code>" in response.text, url
        assert f"<code>{{{{ {variable} }}}}</code>" in response.text, url
        assert f"<code>{{{{ {elsewhere} }}}}</code>" not in response.text, url
    template = EmailTemplate.objects.create(
        kind=Kind.SLA_REMINDER, language="en", subject="s", body_text="t"
    )
    response = admin_client.get(reverse("admin:mailboxes_emailtemplate_change", args=[template.pk]))
    assert "<code>{{ deadline }}</code>" in response.text


def test_customer_mail_names_the_pool_by_its_name_for_customers(ticket, mailbox, agent):
    """Internal pool names stay inside the team: ``{{ ticket.pool }}`` in mail to the
    customer prints the pool's customer-facing name; agents' mail keeps the internal one."""
    ticket.pool.name, ticket.pool.customer_name = "L2 billing escalations", "Billing"
    ticket.pool.save()
    EmailTemplate.objects.create(
        kind=Kind.AUTO_REPLY, language="en", subject="Got it", body_text="[{{ ticket.pool }}]"
    )
    assert auto_reply_email(ticket, mailbox=mailbox).body_text == "[Billing]\n"
    rule, _ = NotificationRule.objects.get_or_create(event=NotificationRule.Event.TICKET_OPENED)
    EmailTemplate.objects.create(
        kind=Kind.TICKET_OPENED, language="en", subject="New", body_text="[{{ ticket.pool }}]"
    )
    info = EventInfo(event=rule.event, ticket=ticket, actor=agent)
    to_agent = Recipient(address="agent@helpdesk.test", name="Agent", language="en")
    to_customer = Recipient(
        address="carla@example.test", name="Carla", language="en", is_customer=True
    )
    assert notification_email(info, to_agent).body_text == "[L2 billing escalations]\n"
    assert notification_email(info, to_customer).body_text == "[Billing]\n"
