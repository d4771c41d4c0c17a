"""The SLA's mail: its plain values for edited templates (``render_email``), its recipients."""

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef

from mailboxes.edited_mail import Values, person_values, ticket_values
from mailboxes.emails import RenderedEmail, render_email
from people.models import ROLE_GROUPS, Role
from tickets.models import PoolMembership, Ticket

logger = logging.getLogger(__name__)


def sla_email(
    kind: str, context: dict, *, language: str = "", time_zone: str = ""
) -> RenderedEmail:
    """One SLA mail (``kind`` without its ``sla.`` prefix); times in ``time_zone``."""
    return render_email(
        f"sla.{kind}",
        language=language or settings.LANGUAGE_CODE,
        time_zone=time_zone or settings.TIME_ZONE,
        context={**context, "url": ticket_url(context["ticket"])},
        values=sla_mail_values,
    )


def ticket_url(ticket: Ticket) -> str:
    return settings.SITE_URL.rstrip("/") + ticket.get_absolute_url()


def sla_mail_values(context: dict) -> dict:
    """What an edited SLA mail may print (``render_email``'s ``values``): plain values."""
    values = {**context, "ticket": ticket_values(context["ticket"], url=context["url"])}
    if deadline := context.get("deadline"):
        target = deadline.get_target_display()
        values["deadline"] = Values(target, due_at=deadline.due_at, target=target)
    if department := context.get("department"):
        values["department"] = Values(department.name, name=department.name, email=department.email)
    if "consultant" in context:
        values["consultant"] = person_values(context["consultant"])
    if consultation := context.get("consultation"):
        values["consultation"] = Values(
            consultation.department.name,
            department=consultation.department.name,
            asked_at=consultation.asked_at,
            due_at=consultation.due_at,
        )
    return values


def time_zone_of(user, *, default: str = "") -> str:
    """The zone to show times in: the person's own, else ``default``, else UTC."""
    profile = getattr(user, "agent_profile", None)
    return (profile.time_zone if profile else "") or default or "UTC"


def supervisors_of(ticket: Ticket) -> list:
    """Active supervisors in the ticket's pool; every active supervisor when none is.

    One query: pool membership is an annotation, the profile (for the language) a join.
    """
    in_pool = PoolMembership.objects.filter(user=OuterRef("pk"), pool_id=ticket.pool_id)
    supervisors = list(
        get_user_model()
        .objects.filter(is_active=True, groups__name=ROLE_GROUPS[Role.SUPERVISOR])
        .select_related("agent_profile")
        .annotate(in_pool=Exists(in_pool))
        .order_by("pk")
    )
    return [user for user in supervisors if user.in_pool] or supervisors


def addresses(users) -> list[str]:
    return list(dict.fromkeys(user.email for user in users if user is not None and user.email))
