"""The report facts follow the domain events: each event refreshes its tickets' rows.

Receivers run after the sla's (the app comes later in INSTALLED_APPS), so a deadline the
event met or missed is already recorded. A failure is logged, never raised: the ticket's
change is committed, and its next event (or ``rebuild_report_facts``) brings it back.
"""

import logging

from tickets import signals

logger = logging.getLogger(__name__)


def _refresh(ticket_ids) -> None:
    from reports.services import refresh_facts

    try:
        refresh_facts(ticket_ids)
    except Exception:
        logger.exception("reports.refresh_failed tickets=%s", list(ticket_ids)[:20])


def _one(sender, ticket, batched=False, **kwargs):
    if not batched:  # a batch event of the same commit covers it
        _refresh([ticket.pk])


def _always(sender, ticket, **kwargs):
    _refresh([ticket.pk])


def _merged(sender, ticket, target, **kwargs):
    _refresh([ticket.pk, target.pk])


def _tickets_created_in_batch(sender, tickets, **kwargs):
    _refresh([ticket.pk for ticket in tickets])


def connect() -> None:
    signals.ticket_created.connect(_one, dispatch_uid="reports-ticket-created")
    signals.tickets_created_in_batch.connect(
        _tickets_created_in_batch, dispatch_uid="reports-tickets-created-in-batch"
    )
    # Solved, reopened, cancelled; a batched one is routing's new -> taken (no fact changes).
    signals.status_changed.connect(_one, dispatch_uid="reports-status-changed")
    # The first reply sets the first response; a move may change the calendar.
    signals.reply_ready.connect(_always, dispatch_uid="reports-reply-ready")
    signals.ticket_updated.connect(_one, dispatch_uid="reports-ticket-updated")
    signals.ticket_merged.connect(_merged, dispatch_uid="reports-ticket-merged")
