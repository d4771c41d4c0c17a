"""Reactions to ticket events and answers to tickets' questions. Bodies call services."""

import logging

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tickets import signals
from tickets.panels import AGENT, CUSTOMER, ON_TICKET, Panel, PanelRow
from tickets.states import Status

logger = logging.getLogger(__name__)


def _on_statuses_changed(sender, changes, actor, **kwargs):
    from surveys.services import invite_to_satisfaction_survey

    for change in changes:
        if change.after not in (Status.CLOSED, Status.RESOLVED):
            continue
        # The change is committed; a survey that cannot be sent is logged, not an error page,
        # and costs only its own ticket its invitation.
        try:
            invite_to_satisfaction_survey(change.ticket.pk, status=change.after)
        except Exception:
            logger.exception("satisfaction survey for ticket %s failed", change.ticket.pk)


def _on_close_requested(sender, ticket, actor, to, **kwargs):
    from surveys.services import check_disposition

    check_disposition(ticket)


def _agent_panels(ticket) -> list[Panel]:
    from surveys.models import Questionnaire, Response
    from surveys.services import disposition_questionnaire_for, pool_settings

    config = pool_settings(ticket.pool_id)
    questionnaire = disposition_questionnaire_for(ticket, config=config)
    rating = config.operator_rating_questionnaire if config else None
    if questionnaire is None and rating is None:
        return []
    # One query tells both: is the disposition filled, did the customer answer the survey.
    kinds = set(Response.objects.filter(ticket=ticket).values_list("kind", flat=True))
    filled = questionnaire is not None and Questionnaire.Kind.DISPOSITION in kinds
    required = bool(config and config.disposition_required and questionnaire and not filled)
    if filled:
        text = _("Filled in.")
    elif required:
        text = _("Required before the ticket is resolved or closed.")
    else:
        text = _("Optional.")
    if Questionnaire.Kind.SATISFACTION in kinds:
        text = f"{text} {_('The customer answered the satisfaction survey.')}"
    return [
        Panel(
            title=_("Disposition and rating"),
            text=text,
            url=reverse("surveys:disposition", args=[ticket.number]),
            link_label=_("Fill in and close") if not filled else _("Add another"),
            tone="warning" if required else "success" if filled else "secondary",
            key="disposition",
        )
    ]


def _customer_panels(ticket) -> list[Panel]:
    from surveys.services import open_invitation_for, survey_url

    invitation = open_invitation_for(ticket)
    if invitation is None:
        return []
    return [
        Panel(
            title=_("How did we do?"),
            text=_("Tell us in a minute: it helps us get better."),
            url=survey_url(invitation),
            link_label=_("Answer the survey"),
            tone="info",
            key="survey",
        )
    ]


def _on_ticket_panels(sender, ticket, user, audience, **kwargs):
    if audience == AGENT:
        return _agent_panels(ticket)
    if audience == CUSTOMER:
        return _customer_panels(ticket)
    return []


def _on_contact_panels(sender, contact, user, place, **kwargs):
    """The customer's satisfaction answers, on tickets the agent may see."""
    from surveys.services import (
        answer_text,
        contact_answer_summary,
        contact_answers,
    )

    if place == ON_TICKET:
        count, latest = contact_answer_summary(contact, user=user)
        if not count:
            return []
        text = ngettext(
            "Answered %(count)d satisfaction survey, last on %(date)s.",
            "Answered %(count)d satisfaction surveys, last on %(date)s.",
            count,
        ) % {"count": count, "date": date_format(localtime(latest), "SHORT_DATE_FORMAT")}
        return [Panel(title=_("Survey answers"), text=text, key="survey-answers")]
    responses = contact_answers(contact, user=user)
    rows = tuple(
        PanelRow(
            text=f"{response.ticket.tag_label} "
            + "; ".join(
                f"{answer.question.translated('text')}: {answer_text(answer)}"
                for answer in response.answers.all()
            ),
            url=response.ticket.get_absolute_url(),
            note=date_format(localtime(response.created_at), "SHORT_DATE_FORMAT"),
        )
        for response in responses
    )
    return [
        Panel(
            title=_("Survey answers"),
            text="" if rows else _("No survey answered on tickets of your pools."),
            rows=rows,
            key="survey-answers",
        )
    ]


def connect() -> None:
    signals.statuses_changed.connect(_on_statuses_changed, dispatch_uid="surveys-invite")
    signals.close_requested.connect(_on_close_requested, dispatch_uid="surveys-disposition")
    signals.ticket_panels.connect(_on_ticket_panels, dispatch_uid="surveys-panels")
    signals.contact_panels.connect(_on_contact_panels, dispatch_uid="surveys-contact-panels")
