"""Consulting an internal department by mail: the question, its answer, and reminders."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from mailboxes.emails import language_of
from mailboxes.outbound import queue_notification
from people.models import Department
from sla.business_time import add_business_time
from sla.models import Consultation, Deadline, Target
from sla.notifications import addresses, sla_email
from sla.services.clocks import lock_ticket_of, schedule_for_ticket, sync_due_of
from tickets.models import ActivityLog, Message, PoolMembership, Ticket
from tickets.services import add_consultation_message, assign_ticket, change_status
from tickets.services.audit import log_activity
from tickets.states import OPEN_STATUSES, Status

Action = ActivityLog.Action
# A department configured with no response time is reminded at most this often (seconds).
MIN_PERIOD = 3600
ANSWERED_REASON = gettext_noop("The consulted department answered.")


@transaction.atomic
def start_consultation(
    ticket: Ticket, *, department: Department, question: str, actor
) -> Consultation:
    """Send ``question`` to ``department`` by mail and put the ticket in consultation.

    The question is kept on the ticket as a consultation message (never shown to the
    customer) whose Message-ID the department's answer threads on. The answer is due
    after the department's response time in the ticket's business hours.
    """
    if not question.strip():
        raise ValidationError(_("Write the question for the department."))
    if not department.active:
        raise ValidationError(_("This department is not taking consultations."))
    ticket = Ticket.objects.select_for_update().get(pk=ticket.pk)
    if ticket.status not in OPEN_STATUSES:
        raise ValidationError(_("Only an open ticket can be sent for consultation."))
    if Consultation.objects.filter(ticket=ticket, department=department).open().exists():
        raise ValidationError(_("This department already has a question about this ticket."))
    now = timezone.now()
    due_at = add_business_time(
        schedule_for_ticket(ticket), now, department.response_time.total_seconds()
    )
    consultation = Consultation.objects.create(
        ticket=ticket,
        department=department,
        consultant=actor,
        asked_at=now,
        due_at=due_at,
        next_reminder_at=due_at,
    )
    rendered = sla_email(
        "consultation_question",
        {
            "ticket": ticket,
            "department": department,
            "question": question,
            "consultant": actor,
            "response_hours": round(department.response_time.total_seconds() / 3600, 1),
        },
    )
    outgoing = queue_notification(
        ticket,
        to=[department.email],
        subject=rendered.subject,
        body_text=rendered.body_text,
        automatic=False,
    )
    consultation.question = add_consultation_message(
        ticket,
        author=actor,
        body_text=question,
        message_id=outgoing.message_id if outgoing else "",
    )
    consultation.save(update_fields=["question"])
    Deadline.objects.create(
        ticket=ticket,
        pool_id=ticket.pool_id,
        target=Target.CONSULTATION,
        consultation=consultation,
        budget_seconds=int(department.response_time.total_seconds()),
        started_at=now,
        running_since=now,
        due_at=due_at,
    )
    log_activity(
        ticket,
        actor=actor,
        action=Action.CONSULTATION_ASKED,
        after=department.name,
        detail=question[:500],
    )
    if ticket.status != Status.CONSULTATION:
        change_status(ticket, to=Status.CONSULTATION, actor=actor)
    sync_due_of([ticket.pk])
    return consultation


def consultation_answer_from(ticket: Ticket, address: str) -> Consultation | None:
    """The open consultation on ``ticket`` whose department writes from ``address``."""
    if not address:
        return None
    return (
        Consultation.objects.open()
        .filter(ticket=ticket, department__email__iexact=address.strip())
        .select_related("department", "consultant__agent_profile")
        .order_by("asked_at")
        .first()
    )


@transaction.atomic
def record_consultation_answer(
    consultation: Consultation,
    *,
    contact,
    body_text: str,
    body_html: str = "",
    files=(),
    message_id: str = "",
) -> Message | None:
    """Store the department's answer and give the ticket back to the agent who asked.

    The ticket leaves consultation when no other department is still asked; the agent
    gets a mail. Records whether the answer came in time. Returns None (nothing stored)
    when the consultation was answered meanwhile.
    """
    now = timezone.now()
    ticket = lock_ticket_of(pk=consultation.ticket_id)
    claimed = Consultation.objects.filter(pk=consultation.pk, state=Consultation.State.OPEN).update(
        state=Consultation.State.ANSWERED, answered_at=now, next_reminder_at=None
    )
    if ticket is None or not claimed:
        return None
    message = add_consultation_message(
        ticket,
        contact=contact,
        body_text=body_text,
        body_html=body_html,
        files=files,
        message_id=message_id,
    )
    Consultation.objects.filter(pk=consultation.pk).update(answer=message)
    late = now > consultation.due_at
    Deadline.objects.filter(consultation=consultation).live().update(
        state=Deadline.State.MET,
        met_at=now,
        breached_at=consultation.due_at if late else None,
        remind_at=None,
    )
    department = consultation.department
    log_activity(
        ticket,
        actor=None,
        action=Action.CONSULTATION_ANSWERED,
        after=department.name,
        detail=body_text[:500],
    )
    still_waiting = Consultation.objects.filter(ticket=ticket).open().exists()
    if ticket.status == Status.CONSULTATION and not still_waiting:
        ticket = change_status(ticket, to=Status.IN_PROGRESS, actor=None, reason=ANSWERED_REASON)
    _return_to_consultant(ticket, consultation)
    sync_due_of([ticket.pk])
    return message


def _return_to_consultant(ticket: Ticket, consultation: Consultation) -> None:
    consultant = consultation.consultant
    if consultant is None or not consultant.is_active:
        return
    if ticket.assignee_id != consultant.pk and (
        PoolMembership.objects.filter(user=consultant, pool_id=ticket.pool_id).exists()
    ):
        # One mail for the consultant: the answer below says the ticket is theirs again.
        ticket = assign_ticket(ticket, agent=consultant, actor=None, told=True)
    rendered = sla_email(
        "consultation_answered",
        {"ticket": ticket, "department": consultation.department, "consultation": consultation},
        language=language_of(consultant),
    )
    queue_notification(
        ticket, to=addresses([consultant]), subject=rendered.subject, body_text=rendered.body_text
    )


@transaction.atomic
def remind_consultation(consultation_id: int, *, now: datetime | None = None) -> bool:
    """Remind a late department with the predefined text, once per response period.

    The claim moves ``next_reminder_at`` one period on with a conditional UPDATE on the
    value read: safe with two beats or a task delivered twice. Logs it on the ticket.
    """
    now = now or timezone.now()
    lock_ticket_of(consultations__pk=consultation_id)
    consultation = (
        Consultation.objects.reminders_due(now)
        .select_related("department", "ticket", "question")
        .filter(pk=consultation_id)
        .first()
    )
    if consultation is None or consultation.next_reminder_at is None:
        return False
    ticket, department = consultation.ticket, consultation.department
    # The next reminder comes one response period after this one was due, skipping any
    # periods that already passed (a worker that was down does not send a burst).
    schedule = schedule_for_ticket(ticket)
    period = max(department.response_time.total_seconds(), MIN_PERIOD)
    next_at = consultation.next_reminder_at
    while next_at <= now:
        next_at = add_business_time(schedule, next_at, period)
    claimed = Consultation.objects.filter(
        pk=consultation.pk,
        state=Consultation.State.OPEN,
        next_reminder_at=consultation.next_reminder_at,
    ).update(next_reminder_at=next_at, reminders_sent=F("reminders_sent") + 1)
    if not claimed:
        return False
    rendered = sla_email(
        "consultation_reminder",
        {"ticket": ticket, "department": department, "consultation": consultation},
    )
    question_id = consultation.question.message_id if consultation.question else ""
    queue_notification(
        ticket,
        to=[department.email],
        subject=rendered.subject,
        body_text=rendered.body_text,
        in_reply_to=question_id,
    )
    log_activity(
        ticket,
        actor=None,
        action=Action.CONSULTATION_REMINDER,
        after=department.name,
        detail=department.email,
    )
    return True
