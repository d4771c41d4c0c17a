"""Surveys: settings per pool and mailbox, the satisfaction invitation, saving answers,
and the disposition check that guards closing a ticket."""

import secrets
from typing import Any
from urllib.parse import urljoin

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Max, Subquery
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from mailboxes.emails import RenderedEmail, language_of, render_files, ticket_mailbox
from mailboxes.models import RawMessage
from mailboxes.notifications import Notice, notify, queue_automatic_email, requester_is_robot
from surveys import signals
from surveys.models import (
    Answer,
    MailboxSurveySettings,
    PoolSurveySettings,
    Question,
    Questionnaire,
    Response,
    SurveyInvitation,
)
from tickets.models import Ticket
from tickets.services import change_status
from tickets.states import Status

Kind = Questionnaire.Kind
TOKEN_SALT = "surveys.satisfaction"  # noqa: S105 (a signing salt, not a secret)


# --- settings -------------------------------------------------------------------------------


def pool_settings(pool_id: int) -> PoolSurveySettings | None:
    return (
        PoolSurveySettings.objects.select_related(
            "satisfaction_questionnaire",
            "disposition_questionnaire",
            "operator_rating_questionnaire",
        )
        .filter(pool_id=pool_id)
        .first()
    )


_UNSET = object()


def disposition_questionnaire_for(ticket: Ticket, *, config=_UNSET) -> Questionnaire | None:
    """The mailbox's own form for a mailed-in ticket, else the pool's; None when neither."""
    first_mailbox = (
        RawMessage.objects.filter(ticket=ticket)
        .order_by("received_at", "pk")
        .values("mailbox_id")[:1]
    )
    override = (
        MailboxSurveySettings.objects.filter(
            mailbox_id=Subquery(first_mailbox), disposition_questionnaire__active=True
        )
        .select_related("disposition_questionnaire")
        .first()
    )
    if override is not None:
        return override.disposition_questionnaire
    if config is _UNSET:
        config = pool_settings(ticket.pool_id)
    questionnaire = config.disposition_questionnaire if config else None
    return questionnaire if questionnaire is not None and questionnaire.active else None


def has_disposition(ticket: Ticket) -> bool:
    return Response.objects.filter(ticket=ticket, kind=Kind.DISPOSITION).exists()


def check_disposition(ticket: Ticket) -> None:
    """Refuse to resolve or close when the pool requires the disposition form and it is empty."""
    config = pool_settings(ticket.pool_id)
    if config is None or not config.disposition_required:
        return
    if disposition_questionnaire_for(ticket, config=config) is None or has_disposition(ticket):
        return
    raise ValidationError(
        _("Fill in the disposition form before resolving or closing this ticket."),
        code="disposition_required",
    )


# --- answers --------------------------------------------------------------------------------


def _report_keys(ticket: Ticket) -> dict:
    requester = ticket.requester
    sector_id = None
    if requester is not None:
        organization = requester.organization
        sector_id = requester.sector_id or (organization.sector_id if organization else None)
    config = pool_settings(ticket.pool_id)
    return {
        "pool_id": ticket.pool_id,
        "sector_id": sector_id,
        "department_id": config.department_id if config else None,
    }


@transaction.atomic
def save_response(
    questionnaire: Questionnaire,
    *,
    ticket: Ticket,
    answers: list[tuple[Question, Any]],
    agent=None,
    contact=None,
    invitation: SurveyInvitation | None = None,
) -> Response:
    """Store one filled questionnaire with the ticket's pool, department and sector."""
    ticket = Ticket.objects.select_related("requester__organization").get(pk=ticket.pk)
    response = Response.objects.create(
        questionnaire=questionnaire,
        kind=questionnaire.kind,
        ticket=ticket,
        agent=agent,
        contact=contact,
        invitation=invitation,
        **_report_keys(ticket),
    )
    for question, value in answers:
        if value in (None, "", []) or (hasattr(value, "exists") and not value.exists()):
            continue
        answer = Answer(response=response, question=question)
        if question.kind in Question.CHOICE_KINDS:
            answer.save()
            items = [value] if question.kind == Question.Kind.SINGLE_CHOICE else list(value)
            answer.choices.set(items)
            continue
        if question.kind == Question.Kind.TEXT:
            answer.text = str(value)
        else:
            answer.number = int(value)
        answer.save()
    return response


# --- customer satisfaction ------------------------------------------------------------------


def make_token(invitation: SurveyInvitation) -> str:
    return signing.dumps({"i": invitation.pk, "n": invitation.nonce}, salt=TOKEN_SALT)


def survey_url(invitation: SurveyInvitation) -> str:
    return urljoin(settings.SITE_URL, reverse("surveys:answer", args=[make_token(invitation)]))


def invitation_from_token(token: str) -> SurveyInvitation | None:
    """The invitation a genuine token names (whatever its state), or None when forged."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("i"), int):
        return None
    invitation = (
        SurveyInvitation.objects.select_related("questionnaire", "ticket__requester")
        .filter(pk=data["i"])
        .first()
    )
    if invitation is None or not secrets.compare_digest(invitation.nonce, str(data.get("n"))):
        return None
    return invitation


def respondent_language(invitation: SurveyInvitation) -> str:
    """The language the survey speaks to its respondent: their mail's (``language_of``)."""
    contact = invitation.contact or invitation.ticket.requester
    # The mailbox is only the fallback: not read for a contact whose language is known.
    known = contact is not None and contact.language
    return language_of(contact, mailbox=None if known else ticket_mailbox(invitation.ticket))


def _render_invitation(invitation: SurveyInvitation, ticket: Ticket) -> RenderedEmail:
    language = respondent_language(invitation)
    context = {"ticket": ticket, "invitation": invitation, "url": survey_url(invitation)}
    with translation.override(language):
        return render_files("surveys/emails/satisfaction", context)


@transaction.atomic
def invite_to_satisfaction_survey(
    ticket_id: int, *, status: str = Status.CLOSED
) -> SurveyInvitation | None:
    """Mail the pool's satisfaction survey for a ticket just closed (or resolved), once.

    ``status`` is what the ticket became: a pool that sends on close ignores a resolve.
    Nothing when the pool has it off, the requester has no address or is a robot. Safe to
    re-run: the unique (ticket, questionnaire) invitation is made once and mailed once.
    """
    ticket = Ticket.objects.select_related("requester").get(pk=ticket_id)
    config = pool_settings(ticket.pool_id)
    if config is None or not config.satisfaction_enabled:
        return None
    if status == Status.RESOLVED and config.satisfaction_sent_on != "resolved":
        return None
    questionnaire = config.satisfaction_questionnaire
    if questionnaire is None or not questionnaire.active or ticket.requester is None:
        return None
    address = ticket.requester.primary_email
    if not address or requester_is_robot(ticket, address):
        return None
    now = timezone.now()
    invitation, created = SurveyInvitation.objects.get_or_create(
        ticket=ticket,
        questionnaire=questionnaire,
        defaults={
            "contact": ticket.requester,
            "address": address,
            "nonce": secrets.token_hex(16),
            "created_at": now,
            "expires_at": now + SurveyInvitation.lifetime(config.satisfaction_link_days),
        },
    )
    if created:
        queue_automatic_email(
            to_address=address, rendered=_render_invitation(invitation, ticket), ticket=ticket
        )
    return invitation


class SurveyClosedError(Exception):
    """The link is genuine but the survey was answered already or has expired."""


@transaction.atomic
def answer_satisfaction(invitation: SurveyInvitation, *, answers) -> Response:
    """Store the customer's answers once; a second answer (or a late one) raises SurveyClosedError.

    The conditional UPDATE is the "once": two submissions racing, one wins.
    """
    now = timezone.now()
    claimed = SurveyInvitation.objects.filter(
        pk=invitation.pk, answered_at__isnull=True, expires_at__gt=now
    ).update(answered_at=now)
    if not claimed:
        raise SurveyClosedError
    ticket = invitation.ticket
    response = save_response(
        invitation.questionnaire,
        ticket=ticket,
        answers=answers,
        agent=ticket.assignee,
        contact=invitation.contact,
        invitation=invitation,
    )
    transaction.on_commit(lambda: notify("survey_answered", [Notice(ticket)]))
    transaction.on_commit(
        lambda: signals.surveys_answered.send_robust(sender=Response, responses=[response])
    )
    return response


def open_invitation_for(ticket: Ticket) -> SurveyInvitation | None:
    """The ticket's unanswered, unexpired satisfaction survey, if any."""
    return (
        SurveyInvitation.objects.filter(
            ticket=ticket, answered_at__isnull=True, expires_at__gt=timezone.now()
        )
        .order_by("-created_at")
        .first()
    )


@transaction.atomic
def save_agent_forms(ticket: Ticket, *, forms, agent, then_status: str | None = None) -> None:
    """Save the agent's disposition and rating, then resolve or close if asked (all or nothing)."""
    for form in forms:
        save_response(form.questionnaire, ticket=ticket, answers=form.answers(), agent=agent)
    if then_status:
        change_status(ticket, to=then_status, actor=agent)


# --- a customer's answers, for agents ------------------------------------------------------

CONTACT_ANSWERS_SHOWN = 10


def _answers_seen_by(contact, user):
    """The contact's satisfaction responses on tickets ``user`` may see, newest first."""
    return Response.objects.filter(
        contact=contact,
        kind=Questionnaire.Kind.SATISFACTION,
        ticket__in=Ticket.objects.visible_to(user).values("pk"),
    )


def contact_answer_summary(contact, *, user) -> tuple[int, Any]:
    """How many satisfaction surveys the contact answered (on tickets ``user`` sees) and
    when last: one query."""
    summary = _answers_seen_by(contact, user).aggregate(count=Count("pk"), latest=Max("created_at"))
    return summary["count"], summary["latest"]


def contact_answers(contact, *, user) -> list[Response]:
    """The latest satisfaction responses of the contact on tickets ``user`` sees, with their
    answers, questions and choices (four queries)."""
    return list(
        _answers_seen_by(contact, user)
        .select_related("ticket")
        .prefetch_related("answers__question", "answers__choices")
        .order_by("-created_at", "-pk")[:CONTACT_ANSWERS_SHOWN]
    )


def answer_text(answer: Answer) -> str:
    """One answer as a person reads it: the number, the choices or the text."""
    if answer.number is not None:
        if answer.question.kind == Question.Kind.YES_NO:
            return str(_("Yes") if answer.number else _("No"))
        return str(answer.number)
    chosen = ", ".join(item.local_label for item in answer.choices.all())
    return chosen or answer.text
