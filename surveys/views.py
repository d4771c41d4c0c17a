"""The customer's survey (by signed link, no sign-in) and the agent's disposition form."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _

from people.decorators import agent_required
from surveys import services
from surveys.forms import QuestionnaireForm
from tickets.services import get_ticket_for
from tickets.states import Status


def answer(request, token):
    """Answer a satisfaction survey once, in the respondent's language. A forged link is not
    found; a used or expired one says so (410) and stores nothing."""
    invitation = services.invitation_from_token(token)
    if invitation is None:
        raise Http404
    with translation.override(services.respondent_language(invitation)):
        return _answer(request, invitation)


def _answer(request, invitation):
    if not invitation.is_open:
        return render(request, "surveys/survey_closed.html", {"invitation": invitation}, status=410)
    data = request.POST if request.method == "POST" else None
    form = QuestionnaireForm(invitation.questionnaire, data)
    if data is not None and form.is_valid():
        try:
            services.answer_satisfaction(invitation, answers=form.answers())
        except services.SurveyClosedError:
            return render(
                request, "surveys/survey_closed.html", {"invitation": invitation}, status=410
            )
        return render(request, "surveys/survey_thanks.html", {"invitation": invitation})
    context = {"form": form, "invitation": invitation, "ticket": invitation.ticket}
    return render(
        request, "surveys/response_form.html", context, status=400 if data is not None else 200
    )


CLOSE_ACTIONS = {"resolve": Status.RESOLVED, "close": Status.CLOSED}


@login_required
@agent_required
def disposition(request, number):
    """The agent's disposition form and operator rating; then, optionally, resolve or close."""
    ticket = get_ticket_for(request.user, number)
    config = services.pool_settings(ticket.pool_id)
    questionnaire = services.disposition_questionnaire_for(ticket, config=config)
    rating = config.operator_rating_questionnaire if config else None
    if questionnaire is None and rating is None:
        raise Http404
    data = request.POST if request.method == "POST" else None
    forms = [
        QuestionnaireForm(item, data, prefix=item.kind)
        for item in (questionnaire, rating)
        if item is not None and item.active
    ]
    if data is not None and all(form.is_valid() for form in forms):
        then = CLOSE_ACTIONS.get(request.POST.get("then", ""))
        try:
            services.save_agent_forms(ticket, forms=forms, agent=request.user, then_status=then)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("Thank you, the form was saved."))
            return redirect(ticket)
    context = {"ticket": ticket, "forms": forms}
    return render(
        request, "surveys/disposition_form.html", context, status=400 if data is not None else 200
    )
