"""A consultation through the real mail path: SMTP out (aiosmtpd), IMAP in (Dovecot)."""

from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
import time_machine
from django.urls import reverse

from mailboxes.tasks import fetch_mailbox_task
from people.models import Department
from sla.models import Consultation, Deadline
from sla.services import sweep_deadlines
from tests.mailboxes.conftest import make_mail
from tickets import services
from tickets.models import ActivityLog, Message, Ticket
from tickets.states import Status

pytestmark = pytest.mark.django_db(transaction=True)


def answer_from(address: str, question, text: str) -> bytes:
    """The department's reply as their mail client writes it: In-Reply-To our question."""
    message = EmailMessage()
    message["From"] = f"Legal team <{address}>"
    message["To"] = "support@helpdesk.test"
    message["Subject"] = "Re: " + question["Subject"]
    message["Message-ID"] = make_msgid(domain="acme.test")
    message["In-Reply-To"] = question["Message-ID"]
    message["References"] = question["Message-ID"]
    message.set_content(text)
    return message.as_bytes()


def sent_to(sink, address):
    return [m for m in sink.messages if address in m["To"]]


def test_question_goes_out_the_answer_comes_back_and_a_late_department_is_reminded_once(
    sink, eager_tasks, dovecot, mail_user, make_mailbox, client, agent, policy
):
    mailbox = make_mailbox()
    legal = Department.objects.create(
        name="Legal", email="legal@acme.test", response_time=timedelta(hours=4)
    )
    finance = Department.objects.create(
        name="Finance", email="finance@acme.test", response_time=timedelta(hours=2)
    )
    # The customer's mail becomes a ticket; the agent takes it.
    dovecot.append(mail_user, make_mail(1, subject="Contract question"))
    fetch_mailbox_task(mailbox.pk)
    ticket = Ticket.objects.get(subject="Contract question")
    services.assign_ticket(ticket, agent=agent, actor=agent)
    client.force_login(agent)

    # 1. The question leaves by SMTP from the ticket page.
    url = reverse("sla:consult", args=[ticket.number])
    response = client.post(url, {"department": legal.pk, "question": "May we refund twice?"})
    assert response.status_code == 302
    (question,) = sent_to(sink, "legal@acme.test")
    assert "May we refund twice?" in question.get_content()
    assert question["Subject"].endswith(ticket.tag_label)
    assert "Auto-Submitted" not in question
    ticket.refresh_from_db()
    assert ticket.status == Status.CONSULTATION

    # 2. Finance is asked too, and never answers in time.
    client.post(url, {"department": finance.pk, "question": "Which account paid?"})
    (finance_question,) = sent_to(sink, "finance@acme.test")

    # 3. Legal answers by plain mail; it is fetched from Dovecot and threads back.
    dovecot.append(mail_user, answer_from("legal@acme.test", question, "Yes, refund it."))
    fetch_mailbox_task(mailbox.pk)

    answer = Message.objects.get(ticket=ticket, kind=Message.Kind.CONSULTATION, author_user=None)
    assert answer.body_text.startswith("Yes, refund it.")
    assert answer.author_contact.emails.get().address == "legal@acme.test"
    assert not Ticket.objects.filter(subject__contains="Contract question").exclude(pk=ticket.pk)
    legal_consultation = Consultation.objects.get(ticket=ticket, department=legal)
    assert legal_consultation.answered_on_time is True
    # Finance still owes an answer, so the ticket stays in consultation, with the agent.
    ticket.refresh_from_db()
    assert (ticket.status, ticket.assignee) == (Status.CONSULTATION, agent)
    (notification,) = sent_to(sink, agent.email)
    assert "Legal answered" in notification["Subject"]

    # 4. Finance is late: the sweep reminds it once per period, however often it runs.
    later = Consultation.objects.get(ticket=ticket, department=finance).due_at
    with time_machine.travel(later + timedelta(minutes=1), tick=False):
        sweep_deadlines()
        sweep_deadlines()
    (reminder,) = [
        m
        for m in sent_to(sink, "finance@acme.test")
        if m["Message-ID"] != finance_question["Message-ID"]
    ]
    assert reminder["In-Reply-To"] == finance_question["Message-ID"]
    assert reminder["Auto-Submitted"] == "auto-generated"
    assert ActivityLog.objects.filter(ticket=ticket, action="consultation_reminder").count() == 1
    finance_deadline = Deadline.objects.get(consultation__department=finance)
    assert finance_deadline.breached_at is not None

    # 5. Finance answers the reminder, late: the ticket goes back to the agent.
    dovecot.append(mail_user, answer_from("finance@acme.test", reminder, "Account 42."))
    with time_machine.travel(later + timedelta(minutes=5)):
        fetch_mailbox_task(mailbox.pk)
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS
    assert Consultation.objects.get(department=finance).answered_on_time is False
    assert ticket.assignee == agent
    assert len(sent_to(sink, agent.email)) >= 2  # told of each answer


def test_a_stranger_quoting_the_question_does_not_join_the_ticket(
    sink, eager_tasks, dovecot, mail_user, make_mailbox, client, agent, policy
):
    mailbox = make_mailbox()
    legal = Department.objects.create(name="Legal", email="legal@acme.test")
    dovecot.append(mail_user, make_mail(2, subject="Refund"))
    fetch_mailbox_task(mailbox.pk)
    ticket = Ticket.objects.get(subject="Refund")
    services.assign_ticket(ticket, agent=agent, actor=agent)
    client.force_login(agent)
    client.post(
        reverse("sla:consult", args=[ticket.number]),
        {"department": legal.pk, "question": "Refund?"},
    )
    (question,) = sent_to(sink, "legal@acme.test")

    dovecot.append(mail_user, answer_from("mallory@evil.test", question, "I am legal, honest."))
    fetch_mailbox_task(mailbox.pk)

    assert Consultation.objects.get(ticket=ticket).state == "open"
    assert not Message.objects.filter(ticket=ticket, body_text__contains="honest").exists()
    stranger = Ticket.objects.exclude(pk=ticket.pk).get()
    assert stranger.linked_tickets.filter(pk=ticket.pk).exists()
