"""Text of the SLA's mail: an admin-edited NotificationTemplate row, else the default files."""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from mailboxes.edited_mail import TICKET_VARIABLE, Values, person_values, ticket_values
from mailboxes.emails import render_edited
from people.models import ROLE_GROUPS, Role
from sla.models import NotificationTemplate
from tickets.models import PoolMembership, Ticket

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    body_text: str


def ticket_url(ticket: Ticket) -> str:
    return settings.SITE_URL.rstrip("/") + ticket.get_absolute_url()


SLA_MAIL_VARIABLES = {
    "ticket": TICKET_VARIABLE,
    "url": _("the ticket's address"),
    "target": _("the deadline's target (first response, resolution, ...)"),
    "deadline": _("the deadline: .due_at (e.g. {{ deadline.due_at|date:'H:i' }}), .target"),
    "time_zone": _("the time zone times are shown in"),
    "department": _("the department consulted: .name, .email"),
    "question": _("the question asked to the department"),
    "consultant": _("the agent who asked the department (prints the name)"),
    "consultation": _("the consultation: .department, .asked_at, .due_at"),
    "response_hours": _("the department's response time, in hours"),
}


def sla_mail_values(context: dict) -> dict:
    """What an edited SLA mail may print: the context's objects as plain values."""
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


def render_mail(kind: str, context: dict, *, language: str = "") -> RenderedMail:
    """Subject and text of one kind of mail in ``language`` (plain text, nothing escaped)."""
    language = language or settings.LANGUAGE_CODE
    context = {**context, "url": ticket_url(context["ticket"])}
    row = NotificationTemplate.objects.filter(kind=kind, language=language).first()
    with translation.override(language):
        edited = None
        if row is not None:
            # Times print in the recipient's zone, as in the default texts.
            with timezone.override(context.get("time_zone") or settings.TIME_ZONE):
                values = sla_mail_values(context)
                edited = render_edited(row, values, allowed=SLA_MAIL_VARIABLES)
        if edited is not None:
            return RenderedMail(subject=" ".join(edited[0].split()), body_text=edited[1])
        name = f"sla/emails/{kind}"
        return RenderedMail(
            subject=" ".join(render_to_string(f"{name}.subject.txt", context).split()),
            body_text=render_to_string(f"{name}.txt", context).strip() + "\n",
        )


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
