"""Survey links: signed, single-purpose, expiring, answered once; forged ones do not exist."""

from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from surveys.models import PoolSurveySettings, Question, Questionnaire, Response, SurveyInvitation
from surveys.services import TOKEN_SALT, invite_to_satisfaction_survey, make_token
from tickets import services
from tickets.services import portal
from tickets.states import Status


@pytest.fixture
def questionnaire(pool):
    questionnaire = Questionnaire.objects.create(name="CSAT", kind=Questionnaire.Kind.SATISFACTION)
    Question.objects.create(questionnaire=questionnaire, text="Rate", kind=Question.Kind.RATING)
    PoolSurveySettings.objects.create(
        pool=pool, satisfaction_enabled=True, satisfaction_questionnaire=questionnaire
    )
    return questionnaire


def _invitation(contact, pool, agent):
    ticket = portal.open_ticket_from_portal(
        contact=contact, actor=None, subject="Help", description="x", pool=pool
    )
    services.change_status(ticket, to=Status.CLOSED, actor=None)
    return invite_to_satisfaction_survey(ticket.pk)


def _answer(client, token, questionnaire):
    question = questionnaire.questions.get()
    return client.post(reverse("surveys:answer", args=[token]), {f"q{question.pk}": 4})


def test_a_survey_link_cannot_be_used_twice(client, pool, agent, customer, questionnaire):
    invitation = _invitation(customer, pool, agent)
    token = make_token(invitation)
    assert _answer(client, token, questionnaire).status_code == 200
    again = _answer(client, token, questionnaire)
    assert again.status_code == 410
    assert client.get(reverse("surveys:answer", args=[token])).status_code == 410
    assert Response.objects.count() == 1


def test_a_survey_link_cannot_be_used_after_it_expires(
    client, pool, agent, customer, questionnaire
):
    invitation = _invitation(customer, pool, agent)
    SurveyInvitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    token = make_token(invitation)
    assert client.get(reverse("surveys:answer", args=[token])).status_code == 410
    assert _answer(client, token, questionnaire).status_code == 410
    assert not Response.objects.exists()


def test_forged_survey_links_are_not_found(
    client, pool, agent, customer, other_customer, questionnaire
):
    mine = _invitation(customer, pool, agent)
    theirs = _invitation(other_customer, pool, agent)
    token = make_token(mine)
    forged = [
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # signature tampered
        signing.dumps({"i": theirs.pk, "n": mine.nonce}, salt=TOKEN_SALT),  # wrong nonce
        signing.dumps({"i": theirs.pk, "n": theirs.nonce}, salt="another.purpose"),
        signing.dumps({"i": theirs.pk, "n": theirs.nonce}, salt=TOKEN_SALT, key="guessed-key"),
        "not-a-token",
    ]
    for bad in forged:
        assert client.get(reverse("surveys:answer", args=[bad])).status_code == 404, bad
        assert _answer(client, bad, questionnaire).status_code == 404, bad
    assert not Response.objects.exists()


def test_another_signed_link_of_ours_is_not_a_survey_link(client, customer):
    from people.services import create_sign_in_link

    _link, token = create_sign_in_link(customer.primary_email)
    assert client.get(reverse("surveys:answer", args=[token])).status_code == 404


def test_customer_a_cannot_see_or_rate_customer_bs_survey(
    customer_client, pool, agent, other_customer, questionnaire
):
    theirs = _invitation(other_customer, pool, agent)
    detail = customer_client.get(reverse("portal:detail", args=[theirs.ticket.number]))
    assert detail.status_code == 404
    assert make_token(theirs) not in detail.content.decode()


@pytest.mark.django_db(transaction=True)
def test_four_simultaneous_answers_to_one_survey_store_one(pool, customer):
    from surveys.services import SurveyClosedError, answer_satisfaction
    from tests.concurrency import run_at_once

    questionnaire = Questionnaire.objects.create(name="CSAT", kind=Questionnaire.Kind.SATISFACTION)
    question = Question.objects.create(
        questionnaire=questionnaire, text="Rate", kind=Question.Kind.RATING
    )
    PoolSurveySettings.objects.create(
        pool=pool, satisfaction_enabled=True, satisfaction_questionnaire=questionnaire
    )
    invitation = _invitation(customer, pool, None)

    def answer():
        try:
            answer_satisfaction(invitation, answers=[(question, 5)])
        except SurveyClosedError:
            return "closed"
        return "stored"

    results = run_at_once([answer] * 4, timeout=60)
    assert sorted(results) == ["closed", "closed", "closed", "stored"]
    assert Response.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_four_simultaneous_uses_of_one_sign_in_link_sign_in_once(customer):
    from people.services import create_sign_in_link, use_sign_in_link
    from tests.concurrency import run_at_once

    _link, token = create_sign_in_link(customer.primary_email)
    results = run_at_once([lambda: use_sign_in_link(token)] * 4, timeout=60)
    assert sum(result is not None for result in results) == 1
