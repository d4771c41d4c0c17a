"""The minute sweep: reminders before deadlines, escalations after them, late departments.

Each kind of work is found by one query on a partial index, then each row is claimed by a
conditional UPDATE that sets its "done" timestamp inside the same transaction as the
mail and the history row. Two beats, or a task delivered twice, both find a row, but only
one UPDATE matches it: the other does nothing. A crash rolls back claim and mail together.

Reminders and escalations due together go out as one digest per person (sla.digest):
a round of the sweep is one transaction, each row in its own savepoint (one row's failure
rolls back that row only), and the digests are queued at the end of the round.
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from mailboxes.models import NotificationPreference
from mailboxes.preferences import readers_of
from sla import signals
from sla.digest import Digest
from sla.models import Consultation, Deadline, SlaPolicy, Target
from sla.notifications import addresses, supervisors_of
from sla.services.clocks import lock_ticket_of
from sla.services.consultations import remind_consultation
from tickets.models import ActivityLog, PoolMembership, Ticket
from tickets.services import assign_ticket, update_ticket
from tickets.services.audit import log_activity
from tickets.states import Priority

logger = logging.getLogger(__name__)

Action = ActivityLog.Action
Topic = NotificationPreference.Topic
BATCH = 500
REASSIGN_FAILED = gettext_noop("Escalation could not give the ticket to %(agent)s: %(error)s")


@dataclass
class SweepResult:
    reminders: int = 0
    escalations: int = 0
    consultation_reminders: int = 0


def _work_through(queryset, order: str, action, now: datetime) -> int:
    """Run ``action`` on every row of ``queryset`` in batches; the number it did.

    One row's failure (each is its own transaction, rolled back whole) is logged and
    skipped, so it cannot hold up the rest of this sweep or any later one.
    """
    done, failed = 0, set[int]()
    while True:
        ids = list(
            queryset.exclude(pk__in=failed).order_by(order).values_list("pk", flat=True)[:BATCH]
        )
        for pk in ids:
            try:
                done += action(pk, now=now)
            except Exception:
                logger.exception("sla.sweep_failed action=%s id=%s", action.__name__, pk)
                failed.add(pk)
        if len(ids) < BATCH:
            return done


Work = list[tuple[int, bool, str, int]]


def _due_deadlines(now: datetime, failed: set) -> Work:
    """(ticket id, is a breach, kind, deadline id) of up to BATCH reminders and breaches due."""
    work: Work = []
    for kind, queryset, order in (
        ("reminder", Deadline.objects.reminders_due(now), "remind_at"),
        ("breach", Deadline.objects.breaches_due(now), "due_at"),
    ):
        rows = queryset.exclude(pk__in=[pk for k, pk in failed if k == kind]).order_by(order)
        pairs = rows.values_list("pk", "ticket_id")[:BATCH]
        # A ticket's reminder before its breach, as they happened.
        work += [(ticket_id, kind == "breach", kind, pk) for pk, ticket_id in pairs]
    return work


def announce_deadlines(signal, deadlines: list) -> None:
    """Send ``signal`` with ``deadlines`` once the current transaction commits, robustly."""
    if deadlines:
        transaction.on_commit(lambda: signal.send_robust(sender=Deadline, deadlines=deadlines))


def _sweep_round(work: Work, now: datetime, result, failed: set) -> None:
    # In ticket order: the tickets are locked as the tickets services and mail intake lock
    # them, so a round holding many never deadlocks against them.
    digest = Digest()
    reminded: list[Deadline] = []
    breached: list[Deadline] = []
    with transaction.atomic():
        for _ticket_id, _order, kind, pk in sorted(work):
            action = remind_deadline if kind == "reminder" else escalate_deadline
            mine = Digest()
            try:
                # its own savepoint; the deadline joins the round's event once it is done
                done = action(
                    pk, now=now, digest=mine, done=reminded if kind == "reminder" else breached
                )
            except Exception:
                logger.exception("sla.sweep_failed action=%s id=%s", action.__name__, pk)
                failed.add((kind, pk))
                continue
            digest.merge(mine)
            if done and kind == "reminder":
                result.reminders += 1
            elif done:
                result.escalations += 1
        digest.queue()
        announce_deadlines(signals.deadlines_reminded, reminded)
        announce_deadlines(signals.deadlines_breached, breached)


def sweep_deadlines(now: datetime | None = None) -> SweepResult:
    """Send every due reminder, escalate every breach, remind every late department.

    Set-based and idempotent: safe with two beat instances and with a task delivered
    twice (each row is claimed once). Works in rounds until nothing due is left; each
    person gets one mail per round listing their tickets.
    """
    now = now or timezone.now()
    result, failed = SweepResult(), set[tuple[str, int]]()
    while work := _due_deadlines(now, failed):
        _sweep_round(work, now, result, failed)
    result.consultation_reminders = _work_through(
        Consultation.objects.reminders_due(now), "next_reminder_at", remind_consultation, now
    )
    if result.reminders or result.escalations or result.consultation_reminders:
        logger.info(
            "sla.sweep reminders=%d escalations=%d consultation_reminders=%d",
            result.reminders,
            result.escalations,
            result.consultation_reminders,
        )
    return result


def _load(deadline_id: int) -> Deadline:
    return Deadline.objects.select_related(
        "policy__calendar", "ticket__pool", "ticket__assignee__agent_profile", "ticket__manager"
    ).get(pk=deadline_id)


@transaction.atomic
def remind_deadline(
    deadline_id: int,
    *,
    now: datetime | None = None,
    digest: Digest | None = None,
    done: list | None = None,
) -> bool:
    """Mail the technician (or the pool's supervisors) that a deadline is near; True if sent.

    With ``digest`` the mail is added to it (the sweep queues one per person), else
    queued now. With ``done`` the deadline is added to it (the sweep announces the round's
    list), else ``deadlines_reminded`` is announced for it after commit. Claims the
    reminder with a conditional UPDATE: safe to run twice or at once.
    """
    now = now or timezone.now()
    lock_ticket_of(deadlines__pk=deadline_id)
    claimed = Deadline.objects.reminders_due(now).filter(pk=deadline_id).update(reminded_at=now)
    if not claimed:
        return False
    deadline = _load(deadline_id)
    ticket = deadline.ticket
    # The technician as they chose; the supervisors (no technician) always; the away's
    # substitutes instead of them (mailboxes.preferences).
    if ticket.assignee:
        recipients = _readers([ticket.assignee], deadline, Topic.SLA_WARNING, now)
    else:
        recipients = _readers(supervisors_of(ticket), deadline, None, now)
    _mail(deadline, "reminder", recipients, digest)
    log_activity(
        ticket,
        actor=None,
        action=Action.SLA_REMINDER,
        after=deadline.get_target_display(),
        detail=", ".join(addresses(recipients)),
    )
    _done(signals.deadlines_reminded, deadline, done)
    return True


def _done(signal, deadline: Deadline, done: list | None) -> None:
    if done is None:
        announce_deadlines(signal, [deadline])
    else:
        done.append(deadline)


def _mail(deadline: Deadline, kind: str, recipients: list, digest: Digest | None) -> None:
    if digest is not None:
        digest.add(kind, deadline, recipients)
        return
    alone = Digest()
    alone.add(kind, deadline, recipients)
    alone.queue()


@transaction.atomic
def escalate_deadline(
    deadline_id: int,
    *,
    now: datetime | None = None,
    digest: Digest | None = None,
    done: list | None = None,
) -> bool:
    """Record a missed deadline and carry out its policy's escalation; True if this call did.

    Mails supervisors, manager and watchers as the policy says (into ``digest`` when
    given), raises the priority, moves the ticket to another pool or agent; logs each
    step. A missed consultation is only recorded here (its reminders are the
    department's). ``done`` as for ``remind_deadline`` (``deadlines_breached``). Claimed
    by a conditional UPDATE: safe to run twice or at once.
    """
    now = now or timezone.now()
    lock_ticket_of(deadlines__pk=deadline_id)
    claimed = Deadline.objects.breaches_due(now).filter(pk=deadline_id).update(breached_at=now)
    if not claimed:
        return False
    deadline = _load(deadline_id)
    if deadline.target == Target.CONSULTATION:
        return True
    _done(signals.deadlines_breached, deadline, done)
    ticket, policy = deadline.ticket, deadline.policy
    log_activity(
        ticket,
        actor=None,
        action=Action.SLA_BREACHED,
        after=deadline.get_target_display(),
        detail=policy.name if policy else "",
    )
    if policy is None:
        return True
    recipients = _readers(_escalation_recipients(ticket, policy), deadline, None, now)
    _mail(deadline, "breach", recipients, digest)
    if ticket.assignee:
        # The technician hears of their ticket's breach as they chose ("SLA warning").
        mine = _readers([ticket.assignee], deadline, Topic.SLA_WARNING, now)
        _mail(deadline, "breach", [u for u in mine if u not in recipients], digest)
    if recipients:
        log_activity(
            ticket,
            actor=None,
            action=Action.SLA_ESCALATED,
            detail=", ".join(addresses(recipients)),
        )
    _escalation_changes(ticket, policy)
    return True


def _readers(users: list, deadline: Deadline, topic, now: datetime) -> list:
    detail = str(deadline.get_target_display())
    if deadline.due_at is not None:
        detail += f": {deadline.due_at:%Y-%m-%d %H:%M} UTC"
    readers = readers_of(users, deadline.ticket, topic, now=now, detail=detail)
    return list({reader.pk: reader for reader, _on_behalf_of in readers}.values())


def _escalation_recipients(ticket: Ticket, policy: SlaPolicy) -> list:
    recipients = []
    if policy.notify_supervisors:
        recipients += supervisors_of(ticket)
    if policy.notify_manager and ticket.manager is not None:
        recipients.append(ticket.manager)
    if policy.notify_watchers:
        recipients += list(ticket.watchers.all())
    return list({user.pk: user for user in recipients}.values())


def _escalation_changes(ticket: Ticket, policy: SlaPolicy) -> None:
    # The tickets services log these changes and announce them; the sla receivers then
    # recompute the deadlines for the new priority or pool (the breach stays recorded).
    changes: dict = {}
    if policy.raise_priority:
        higher = [value for value in Priority.values if value > ticket.priority]
        if higher:
            changes["priority"] = min(higher)
    if policy.reassign_pool_id and policy.reassign_pool_id != ticket.pool_id:
        changes["pool"] = policy.reassign_pool
    if changes:
        ticket = update_ticket(ticket, actor=None, **changes)
    agent = policy.reassign_agent
    if agent is None or agent.pk == ticket.assignee_id:
        return
    if not PoolMembership.objects.filter(user=agent, pool_id=ticket.pool_id).exists():
        _log_reassign_failure(ticket, agent, "not a member of the ticket's pool")
        return
    try:
        assign_ticket(ticket, agent=agent, actor=None)
    except ValidationError as error:
        _log_reassign_failure(ticket, agent, "; ".join(error.messages))


def _log_reassign_failure(ticket: Ticket, agent, error: str) -> None:
    name = agent.get_full_name() or agent.get_username()
    log_activity(
        ticket,
        actor=None,
        action=Action.SLA_ESCALATED,
        detail=REASSIGN_FAILED % {"agent": name, "error": error},
    )
