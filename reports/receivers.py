"""The report facts follow the domain events: each event refreshes its tickets' rows.

Receivers run after the sla's (the app comes later in INSTALLED_APPS), so a deadline the
event met or missed is already recorded. New tickets' facts are written by a task
(``refresh_facts_task``), the other events' in the receiver. A failure is logged, never
raised: the ticket's change is committed, and its next event (or ``rebuild_report_facts``)
brings it back.
"""

import logging

from django.db import transaction

from tickets import signals
from tickets.models import Message

logger = logging.getLogger(__name__)


def _refresh(ticket_ids) -> None:
    from reports.services import refresh_facts

    try:
        refresh_facts(ticket_ids)
    except Exception:
        logger.exception("reports.refresh_failed tickets=%s", list(ticket_ids)[:20])


# Moves between these change no fact (routing's new -> taken, starting the work).
_WORKING = {"new", "taken", "in_progress"}


def _created(sender, tickets, **kwargs):
    # In a task: the request that opened them (a chat's first line, a portal form) does not
    # wait for their facts. Queued after the sla's receivers ran, so their deadlines are in.
    from helpdesk.celery import enqueue_on_commit
    from reports.tasks import refresh_facts_task

    ids = sorted(ticket.pk for ticket in tickets)
    if ids:
        enqueue_on_commit(refresh_facts_task, ids, on_failure=lambda: _refresh(ids))


def _statuses(sender, changes, **kwargs):
    # Solved, reopened, cancelled, waiting: the facts follow.
    ids = [c.ticket.pk for c in changes if not (c.before in _WORKING and c.after in _WORKING)]
    if ids:
        _refresh(ids)


def _replies(sender, messages, **kwargs):
    # The first reply that leaves sets the first response.
    _refresh(sorted({message.ticket_id for message in messages}))


def _updated(sender, changes, **kwargs):
    # A move may change the calendar of the business durations.
    _refresh(sorted({change.ticket.pk for change in changes}))


def _assigned(sender, changes, **kwargs):
    # The agent a ticket's figures count for in the daily roll-up. A ticket routed as it
    # was opened is not refreshed twice: the task ``_created`` queued reads it routed.
    ids = sorted({change.ticket.pk for change in changes if not change.opened})
    if ids:
        _refresh(ids)


def _merged(sender, merges, **kwargs):
    _refresh(sorted({pk for merge in merges for pk in (merge.ticket.pk, merge.target.pk)}))


def _breached(sender, deadlines, **kwargs):
    # The sweep marks deadlines missed: the SLA counts (reports.marks) follow.
    _refresh(sorted({deadline.ticket_id for deadline in deadlines}))


def _consulted(sender, messages, **kwargs):
    # A department's answer meets its consultation deadline, on time or late, even when
    # the ticket stays in consultation (another department still asked).
    ids = sorted({m.ticket_id for m in messages if m.kind == Message.Kind.CONSULTATION})
    if ids:
        _refresh(ids)


def _answered(sender, instance, **kwargs):
    # A survey answer (a customer's or an agent's form) moves the satisfaction sums: once
    # the transaction commits (its response's other answers saved too).
    ticket_id = instance.response.ticket_id
    transaction.on_commit(lambda: _refresh([ticket_id]))


def connect() -> None:
    from django.db.models.signals import post_delete, post_save

    from sla import signals as sla_signals
    from surveys.models import Answer

    post_save.connect(_answered, sender=Answer, dispatch_uid="reports-answer-saved")
    post_delete.connect(_answered, sender=Answer, dispatch_uid="reports-answer-deleted")

    sla_signals.deadlines_breached.connect(_breached, dispatch_uid="reports-deadlines-breached")
    signals.messages_added.connect(_consulted, dispatch_uid="reports-consultation-messages")
    signals.tickets_created.connect(_created, dispatch_uid="reports-tickets-created")
    signals.statuses_changed.connect(_statuses, dispatch_uid="reports-statuses-changed")
    signals.replies_ready.connect(_replies, dispatch_uid="reports-replies-ready")
    signals.tickets_updated.connect(_updated, dispatch_uid="reports-tickets-updated")
    signals.tickets_merged.connect(_merged, dispatch_uid="reports-tickets-merged")
    signals.tickets_assigned.connect(_assigned, dispatch_uid="reports-tickets-assigned")
