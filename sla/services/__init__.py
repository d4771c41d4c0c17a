"""SLA workflows: clocks, the sweep and consultations. Receivers and views call these."""

from sla.services.batch import apply_policies, follow_customer_messages
from sla.services.clocks import (
    apply_policy,
    follow_customer_message,
    follow_reply,
    follow_status,
    policy_for,
)
from sla.services.consultations import (
    consultation_answer_from,
    record_consultation_answer,
    remind_consultation,
    start_consultation,
)
from sla.services.sweep import escalate_deadline, remind_deadline, sweep_deadlines

__all__ = [
    "apply_policies",
    "apply_policy",
    "consultation_answer_from",
    "escalate_deadline",
    "follow_customer_message",
    "follow_customer_messages",
    "follow_reply",
    "follow_status",
    "policy_for",
    "record_consultation_answer",
    "remind_consultation",
    "remind_deadline",
    "start_consultation",
    "sweep_deadlines",
]
