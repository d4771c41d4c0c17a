"""The intake wizard's state (one draft row per agent) and the ticket it ends in."""

from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from people.models import Contact
from phone.models import Call, IntakeDraft, Plan, ScriptRun
from phone.scripts import report_text
from tickets.models import Pool, Ticket
from tickets.services.intake import CustomerMail, receive_customer_messages
from tickets.services.lifecycle import update_ticket
from tickets.services.messages import add_note
from tickets.states import Channel

STEPS = ["origin", "filters", "records", "customer", "service", "script", "report", "first_contact"]
STEP_TITLES = {
    "origin": gettext_lazy("Origin"),
    "filters": gettext_lazy("Filters"),
    "records": gettext_lazy("Records"),
    "customer": gettext_lazy("Customer data"),
    "service": gettext_lazy("Service data"),
    "script": gettext_lazy("Call script"),
    "report": gettext_lazy("Script report"),
    "first_contact": gettext_lazy("First contact"),
}
# Only a telephone intake searches the calls; a walk-in starts with the customer.
CALL_STEPS = ("filters", "records")
ORIGIN_PHONE = "phone"
# The ticket's channel for each origin of the Origin step.
ORIGIN_CHANNELS = {"phone": Channel.PHONE, "walk_in": Channel.WALK_IN, "other": Channel.AGENT}
DEFAULT_QUANTITY = 50
MAX_CALLS_LISTED = 200


def steps_for(data: dict) -> list[str]:
    if data.get("origin", ORIGIN_PHONE) == ORIGIN_PHONE:
        return STEPS
    return [step for step in STEPS if step not in CALL_STEPS]


def next_step(data: dict, step: str) -> str:
    steps = steps_for(data)
    return steps[min(steps.index(step) + 1, len(steps) - 1)]


def previous_step(data: dict, step: str) -> str:
    steps = steps_for(data)
    return steps[max(steps.index(step) - 1, 0)]


def draft_for(agent) -> IntakeDraft:
    """The agent's wizard, started at Origin when there is none."""
    draft, _created = IntakeDraft.objects.get_or_create(
        agent=agent, defaults={"step": "origin", "data": {"origin": ORIGIN_PHONE}}
    )
    return draft


def save_draft(draft: IntakeDraft, *, step: str | None = None, **data) -> IntakeDraft:
    """Merge ``data`` into the draft (None removes a key) and move it to ``step``."""
    for key, value in data.items():
        if value is None:
            draft.data.pop(key, None)
        else:
            draft.data[key] = value
    if step is not None:
        draft.step = step
    draft.save()
    return draft


@transaction.atomic
def start_intake(agent, *, call: Call | None = None) -> IntakeDraft:
    """A fresh wizard; from a call, its number is the filter and the call is chosen."""
    IntakeDraft.objects.filter(agent=agent).delete()
    data: dict = {"origin": ORIGIN_PHONE, "mode": "period", "days": 7, "quantity": DEFAULT_QUANTITY}
    if call is not None:
        data |= {"mode": "phone", "call_id": call.pk}
        if call.customer_number:
            data |= {"digits": call.customer_number, "numbers": [call.customer_number]}
        if call.contact_id:
            data["contact_id"] = call.contact_id
    return IntakeDraft.objects.create(agent=agent, step="origin", data=data)


def cancel_intake(agent) -> None:
    """Forget the agent's wizard; a script run it started stays, ended, unlinked."""
    draft = IntakeDraft.objects.filter(agent=agent).first()
    if draft is None:
        return
    run_id = draft.data.get("run_id")
    if run_id:
        ScriptRun.objects.filter(pk=run_id, agent=agent, ended_at__isnull=True).update(
            ended_at=timezone.now()
        )
    draft.delete()


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def calls_found(agent, data: dict):
    """The calls the Filters step asks for, newest first, within the agent's pools."""
    calls = Call.objects.visible_to(agent).select_related("contact", "contact__organization")
    mode = data.get("mode", "period")
    if mode == "range":
        start = date.fromisoformat(data["date_from"])
        end = date.fromisoformat(data["date_to"])
        calls = calls.filter(
            started_at__gte=_day_start(start), started_at__lt=_day_start(end + timedelta(days=1))
        )
    elif mode == "phone":
        calls = calls.filter(customer_number__in=data.get("numbers") or [])
    else:
        since = timezone.now() - timedelta(days=int(data.get("days") or 7))
        calls = calls.filter(started_at__gte=since)
    return calls.order_by("-started_at", "-id")[:MAX_CALLS_LISTED]


def chosen_call(agent, data: dict) -> Call | None:
    if not data.get("call_id"):
        return None
    return Call.objects.visible_to(agent).filter(pk=data["call_id"]).first()


def chosen_contact(data: dict) -> Contact | None:
    if not data.get("contact_id"):
        return None
    return (
        Contact.objects.select_related("organization", "sector")
        .prefetch_related("emails", "phones")
        .filter(pk=data["contact_id"])
        .first()
    )


def plans_of(contact: Contact | None):
    if contact is None or contact.organization_id is None:
        return Plan.objects.none()
    return (
        Plan.objects.filter(organization_id=contact.organization_id, active=True)
        .select_related("product")
        .prefetch_related("routing_points", "access_logins", "pools")
    )


def chosen_plan(data: dict, contact: Contact | None) -> Plan | None:
    if not data.get("plan_id"):
        return None
    return plans_of(contact).filter(pk=data["plan_id"]).first()


def chosen_run(agent, data: dict) -> ScriptRun | None:
    if not data.get("run_id"):
        return None
    return ScriptRun.objects.select_related("script").filter(pk=data["run_id"], agent=agent).first()


def pending_tickets(agent, contact: Contact | None):
    """The customer's open tickets this agent may see, oldest first."""
    if contact is None:
        return Ticket.objects.none()
    return Ticket.objects.visible_to(agent).open().filter(requester=contact).order_by("created_at")


@transaction.atomic
def create_phone_ticket(
    *,
    agent,
    contact: Contact,
    subject: str,
    description: str,
    pool: Pool,
    topic=None,
    product=None,
    priority=None,
    call: Call | None = None,
    run: ScriptRun | None = None,
    channel: str = Channel.PHONE,
) -> Ticket:
    """Open a phone ticket through the intake path (routing, SLA, notifications follow).

    The agent's topic, product and priority replace what classification guessed; the
    script report becomes an internal note; the call and the run point at the ticket; the
    agent's draft is gone. Not safe to re-run: each call opens one more ticket.
    """
    if not Pool.objects.usable_by(agent).filter(pk=pool.pk).exists():
        raise ValidationError(_("You cannot open tickets in this pool."))
    mail = CustomerMail(
        contact=contact, body_text=description, subject=subject, pool=pool, routing_text=description
    )
    receive_customer_messages([mail], channel=channel)
    ticket = mail.ticket
    assert ticket is not None  # noqa: S101 (set by receive_customer_messages)
    chosen = {"topic": topic, "product": product, "priority": priority}
    changes = {name: value for name, value in chosen.items() if value}
    if changes:
        ticket = update_ticket(ticket, actor=agent, **changes)
    report = report_text(run)
    if report:
        add_note(ticket, author=agent, body=report)
    if call is not None:
        Call.objects.filter(pk=call.pk).update(ticket=ticket, contact=contact)
    if run is not None:
        ScriptRun.objects.filter(pk=run.pk).update(ticket=ticket)
        ScriptRun.objects.filter(Q(pk=run.pk), Q(ended_at__isnull=True)).update(
            ended_at=timezone.now()
        )
    IntakeDraft.objects.filter(agent=agent).delete()
    return ticket
