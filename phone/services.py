"""Calls: PBX tokens, CTI events, calls logged by hand, callers matched to contacts."""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.tokens import new_token, token_digest
from people.models import Contact, ContactEmail, ContactPhone, Organization, Sector
from people.phones import normalise_number, number_prefix
from people.roles import is_agent
from phone import signals
from phone.models import Call, PbxIntegration

TOKEN_PREFIX = "pbx"  # noqa: S105 (a label, not a secret)

# Event names of the generic CTI APIs (Zammad's, 3CX's call journal), and ours.
EVENTS = {
    "newcall": "new",
    "new_call": "new",
    "new": "new",
    "ringing": "new",
    "answer": "answered",
    "answered": "answered",
    "hangup": "hangup",
    "hung_up": "hangup",
    "ended": "hangup",
}


class PbxTokenError(Exception):
    """A CTI request without a usable token; ``status`` is what the endpoint answers."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@transaction.atomic
def create_integration(*, name: str, pool) -> tuple[PbxIntegration, str]:
    """A PBX link and its token; the token is returned once and only its digest is kept."""
    token = new_token(TOKEN_PREFIX)
    integration = PbxIntegration.objects.create(
        name=name, pool=pool, token_digest=token_digest(token), token_hint=token[:8]
    )
    return integration, token


@transaction.atomic
def rotate_token(integration: PbxIntegration) -> str:
    """A new token for the PBX (the old one stops working at once); returned once."""
    token = new_token(TOKEN_PREFIX)
    integration.token_digest = token_digest(token)
    integration.token_hint = token[:8]
    integration.save(update_fields=["token_digest", "token_hint"])
    return token


def authenticate_pbx(token: str, *, address: str | None = None) -> PbxIntegration:
    """The integration holding ``token``; PbxTokenError (401 unknown, 403 revoked) otherwise.

    Records when and from where it was last used (one UPDATE, at most once a minute).
    """
    if not token:
        raise PbxTokenError(401, "A token is required.")
    integration = PbxIntegration.objects.filter(token_digest=token_digest(token)).first()
    if integration is None:
        raise PbxTokenError(401, "Unknown token.")
    if integration.revoked:
        raise PbxTokenError(403, "This PBX integration is revoked.")
    now = timezone.now()
    stale = (
        integration.last_used_at is None or (now - integration.last_used_at).total_seconds() >= 60
    )
    if stale or integration.last_used_from != address:
        PbxIntegration.objects.filter(pk=integration.pk).update(
            last_used_at=now, last_used_from=address
        )
    return integration


def contact_for_number(e164: str) -> Contact | None:
    """The contact with this number (the most recently created when several share it)."""
    if not e164:
        return None
    row = (
        ContactPhone.objects.filter(e164=e164)
        .select_related("contact__organization")
        .order_by("-contact__created_at", "-contact_id")
        .first()
    )
    return row.contact if row else None


def contacts_for_numbers(numbers) -> dict[str, Contact]:
    """``{e164: contact}`` for the numbers that belong to a contact, in one query."""
    found: dict[str, Contact] = {}
    rows = (
        ContactPhone.objects.filter(e164__in=[n for n in numbers if n])
        .select_related("contact")
        .order_by("e164", "-contact__created_at", "-contact_id")
    )
    for row in rows:
        found.setdefault(row.e164, row.contact)
    return found


def _agent_named(reference: str):
    if not reference:
        return None
    users = get_user_model().objects.filter(is_active=True)
    user = users.filter(Q(username=reference) | Q(email__iexact=reference)).first()
    return user if user is not None and is_agent(user) else None


@dataclass
class CtiEvent:
    event: str  # new, answered, hangup (see EVENTS)
    call_id: str
    from_number: str = ""
    to_number: str = ""
    direction: str = Call.Direction.INBOUND
    agent: str = ""  # username or email of the agent, as the PBX knows them
    at: datetime | None = None


def parse_cti_event(data) -> CtiEvent:
    """Read a CTI request's fields (form or JSON); ValidationError names what is wrong."""
    event = EVENTS.get(str(data.get("event", "")).strip().lower())
    if event is None:
        raise ValidationError(_("Unknown event; expected newCall, answer or hangup."))
    call_id = str(data.get("callId") or data.get("call_id") or "").strip()
    if not call_id or len(call_id) > 100:
        raise ValidationError(_("A call id (callId) of at most 100 characters is required."))
    direction = str(data.get("direction") or "in").strip().lower()
    direction = {"inbound": "in", "outbound": "out"}.get(direction, direction)
    if direction not in Call.Direction.values:
        raise ValidationError(_("The direction is in or out."))
    return CtiEvent(
        event=event,
        call_id=call_id,
        from_number=str(data.get("from") or "").strip()[:40],
        to_number=str(data.get("to") or "").strip()[:40],
        direction=direction,
        agent=str(data.get("user") or data.get("agent") or "").strip()[:150],
    )


def _customer_number(direction: str, from_number: str, to_number: str) -> str:
    return normalise_number(from_number if direction == Call.Direction.INBOUND else to_number)


def announce_received(calls: list[Call]) -> None:
    """``calls_received`` for the incoming ones among ``calls``, after commit."""
    received = [call for call in calls if call.direction == Call.Direction.INBOUND]
    if received:
        transaction.on_commit(
            lambda: signals.calls_received.send_robust(sender=Call, calls=received)
        )


@transaction.atomic
def record_cti_event(
    integration: PbxIntegration | None, event: CtiEvent, *, pool=None
) -> tuple[Call, list[str]]:
    """Apply one CTI event to its call; returns the call and what happened to it just now
    (live event names: ``call.ringing``, ``call.answered``, ``call.ended``; none on a repeat).

    The events come from a PBX on its own token (``integration``: the call goes to its
    pool) or through the API (no integration, the ``pool`` the API token chose).
    Idempotent: the call is one row per (integration, call id), or per (pool, call id)
    without an integration, found again under a row lock; an answer or hang-up already
    recorded is not recorded again, and events that arrive out of order (a hang-up
    before the new call) still end in the same row. A new incoming call is announced
    (``calls_received``) after commit.
    """
    now = event.at or timezone.now()
    pool = integration.pool if integration is not None else pool
    if pool is None:
        raise ValueError("A CTI event without a PBX needs a pool.")
    same_call = (
        Q(integration=integration)
        if integration is not None
        else Q(integration__isnull=True, pool=pool)
    )
    call = Call.objects.select_for_update().filter(same_call, call_id=event.call_id).first()
    created = False
    if call is None:
        number = _customer_number(event.direction, event.from_number, event.to_number)
        try:
            with transaction.atomic():
                call = Call.objects.create(
                    integration=integration,
                    call_id=event.call_id,
                    direction=event.direction,
                    from_number=event.from_number,
                    to_number=event.to_number,
                    customer_number=number,
                    pool=pool,
                    contact=contact_for_number(number),
                    started_at=now,
                )
            created = True
            announce_received([call])
        except IntegrityError:
            # The same event delivered twice at once: the other request made the row.
            call = Call.objects.select_for_update().get(same_call, call_id=event.call_id)
    agent = _agent_named(event.agent)
    changed: list[str] = []
    news = ["call.ringing"] if created and event.event == "new" else []
    if agent is not None and call.agent_id is None:
        call.agent = agent
        changed.append("agent")
    if event.event == "answered" and call.answered_at is None and call.ended_at is None:
        call.answered_at, call.state = now, Call.State.ANSWERED
        changed += ["answered_at", "state"]
        news.append("call.answered")
    if event.event == "hangup" and call.ended_at is None:
        call.ended_at = now
        call.state = Call.State.ENDED if call.answered_at else Call.State.MISSED
        changed += ["ended_at", "state"]
        news.append("call.ended")
    if changed:
        call.save(update_fields=changed)
    return call, news


@transaction.atomic
def log_call(
    *,
    agent,
    pool,
    number: str,
    direction: str = Call.Direction.INBOUND,
    started_at=None,
    notes: str = "",
) -> Call:
    """Record a call an agent took or made outside the PBX link (ended, answered); an
    incoming one is announced (``calls_received``) after commit."""
    e164 = normalise_number(number)
    if not e164:
        raise ValidationError(_("This is not a phone number we can read."))
    started_at = started_at or timezone.now()
    inbound = direction == Call.Direction.INBOUND
    call = Call.objects.create(
        direction=direction,
        from_number=number if inbound else "",
        to_number="" if inbound else number,
        customer_number=e164,
        state=Call.State.ENDED,
        pool=pool,
        agent=agent,
        contact=contact_for_number(e164),
        notes=notes,
        started_at=started_at,
        answered_at=started_at,
        ended_at=started_at,
    )
    announce_received([call])
    return call


def numbers_starting_with(user, typed: str, *, limit: int) -> list[str]:
    """The distinct customer numbers of ``user``'s calls that start with what was typed.

    On PostgreSQL the ``varchar_pattern_ops`` index is walked in its own order (``USING
    ~<~``), so only the first ``limit`` distinct numbers are read: a plain ORDER BY would
    sort every match first (an area code alone matches 12,500 of 1,000,000 calls).
    """
    prefix = number_prefix(typed)
    if not prefix:
        return []
    calls = Call.objects.visible_to(user).filter(customer_number__startswith=prefix)
    if connection.vendor != "postgresql":
        numbers = calls.order_by("customer_number").values_list("customer_number", flat=True)
        return list(numbers.distinct()[:limit])
    sql, params = calls.order_by().values("customer_number").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT customer_number FROM ({sql}) AS matched"  # noqa: S608 (ORM SQL)
            " ORDER BY customer_number USING ~<~ LIMIT %s",
            [*params, limit],
        )
        return [row[0] for row in cursor.fetchall()]


@dataclass
class NewContact:
    name: str
    organization: Organization | None = None
    sector: Sector | None = None
    role: str = ""
    phone: str = ""
    mobile: str = ""
    fax: str = ""
    email: str = ""


@transaction.atomic
def add_contact(new: NewContact) -> Contact:
    """Create a contact from the phone desk; it needs a way to reach or place them.

    At least one of role, phone, mobile, fax or email is required (ValidationError).
    """
    if not new.name.strip():
        raise ValidationError(_("The contact needs a name."))
    if not any(v.strip() for v in (new.role, new.phone, new.mobile, new.fax, new.email)):
        raise ValidationError(
            _("Fill in at least one of role, phone, mobile, fax or email to save the contact.")
        )
    email = new.email.strip().lower()
    if email and ContactEmail.objects.filter(address=email).exists():
        raise ValidationError(
            _("Another contact already has the address %(email)s.") % {"email": email}
        )
    contact = Contact.objects.create(
        name=new.name.strip(),
        organization=new.organization,
        sector=new.sector,
        role=new.role.strip(),
    )
    if email:
        ContactEmail.objects.create(contact=contact, address=email, is_primary=True)
    kinds = [
        (ContactPhone.Kind.WORK, new.phone),
        (ContactPhone.Kind.MOBILE, new.mobile),
        (ContactPhone.Kind.FAX, new.fax),
    ]
    for kind, number in kinds:
        if number.strip():
            ContactPhone.objects.create(contact=contact, number=number.strip(), kind=kind)
    return contact


@transaction.atomic
def identify_caller(call: Call, contact: Contact) -> Call:
    """Attach the contact the agent identified to a call that had none (or another)."""
    if call.contact_id != contact.pk:
        call.contact = contact
        call.save(update_fields=["contact"])
    return call
