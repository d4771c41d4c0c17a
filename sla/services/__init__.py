"""SLA workflows: clocks, the sweep and consultations. Receivers and views call these."""

from sla.services.clocks import (
    apply_policies,
    follow_customer_messages,
    follow_replies,
    follow_statuses,
    policy_for,
    sync_due_of,
)
from sla.services.closing import close_resolved_tickets, closes_at, closing_rules
from sla.services.consultations import (
    consultation_answer_from,
    record_consultation_answer,
    remind_consultation,
    start_consultation,
)
from sla.services.sweep import escalate_deadline, remind_deadline, sweep_deadlines

__all__ = [
    "apply_policies",
    "close_resolved_tickets",
    "closes_at",
    "closing_rules",
    "consultation_answer_from",
    "escalate_deadline",
    "follow_customer_messages",
    "follow_replies",
    "follow_statuses",
    "policy_for",
    "record_consultation_answer",
    "remind_consultation",
    "remind_deadline",
    "start_consultation",
    "sweep_deadlines",
    "sync_due_of",
]
