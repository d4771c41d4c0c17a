"""Questionnaires: one field per question kind, required or not, answers kept for reports."""

import pytest

from people.models import Department, Organization, Sector
from surveys.forms import QuestionnaireForm
from surveys.models import Answer, PoolSurveySettings, Question
from surveys.services import save_response
from tests.surveys.conftest import satisfaction_answers
from tickets import services


def test_a_complete_satisfaction_form_is_valid(satisfaction):
    form = QuestionnaireForm(satisfaction, satisfaction_answers(satisfaction))
    assert form.is_valid(), form.errors
    assert [value for _q, value in form.answers()] == [5, 9, 1, "Great"]


@pytest.mark.parametrize(
    ("field", "value"),
    [("rating", 6), ("rating", 0), ("score", 11), ("score", -1), ("solved", 2)],
)
def test_numbers_outside_their_scale_are_refused(satisfaction, field, value):
    data = satisfaction_answers(satisfaction, **{field: value})
    form = QuestionnaireForm(satisfaction, data)
    assert not form.is_valid()
    assert "Select a valid choice" in str(form.errors)


def test_a_score_of_zero_is_an_answer(satisfaction):
    form = QuestionnaireForm(satisfaction, satisfaction_answers(satisfaction, score=0))
    assert form.is_valid()


def test_required_questions_must_be_answered_and_optional_ones_may_be_left_empty(satisfaction):
    data = satisfaction_answers(satisfaction, comment="")
    assert QuestionnaireForm(satisfaction, data).is_valid()
    rating = satisfaction.questions.get(kind=Question.Kind.RATING)
    del data[f"q{rating.pk}"]
    form = QuestionnaireForm(satisfaction, data)
    assert not form.is_valid()
    assert list(form.errors) == [f"q{rating.pk}"]


def test_choices_come_from_the_dictionary_and_retired_entries_are_refused(disposition, partners):
    single, multiple = disposition.questions.order_by("position")
    azul, verde, retired = partners.items.order_by("position")
    ok = QuestionnaireForm(
        disposition, {f"q{single.pk}": azul.pk, f"q{multiple.pk}": [azul.pk, verde.pk]}
    )
    assert ok.is_valid(), ok.errors
    refused = QuestionnaireForm(disposition, {f"q{single.pk}": retired.pk})
    assert not refused.is_valid()


def test_a_choice_question_needs_a_dictionary(disposition):
    question = Question(questionnaire=disposition, text="?", kind=Question.Kind.SINGLE_CHOICE)
    with pytest.raises(Exception, match="needs a dictionary"):
        question.full_clean()


def test_answers_are_stored_with_ticket_agent_pool_department_and_sector(
    pool, agent, customer, satisfaction, disposition, partners
):
    sector = Sector.objects.create(name="Retail")
    customer.organization = Organization.objects.create(name="Shop", sector=sector)
    customer.save(update_fields=["organization"])
    department = Department.objects.create(name="Finance", email="finance@acme.test")
    PoolSurveySettings.objects.create(pool=pool, department=department)
    ticket = services.create_ticket(subject="x", pool=pool, requester=customer)
    single, multiple = disposition.questions.order_by("position")
    azul, verde, _retired = partners.items.order_by("position")
    response = save_response(
        disposition,
        ticket=ticket,
        answers=[(single, azul), (multiple, [azul, verde])],
        agent=agent,
    )
    assert (response.ticket, response.agent, response.pool) == (ticket, agent, pool)
    assert (response.department, response.sector) == (department, sector)
    assert response.kind == disposition.kind
    assert list(Answer.objects.get(question=single).choices.all()) == [azul]
    assert set(Answer.objects.get(question=multiple).choices.all()) == {azul, verde}


def test_numbers_and_text_are_stored_as_numbers_and_text(pool, customer, satisfaction):
    ticket = services.create_ticket(subject="x", pool=pool, requester=customer)
    form = QuestionnaireForm(satisfaction, satisfaction_answers(satisfaction, score=0, solved=0))
    assert form.is_valid()
    response = save_response(satisfaction, ticket=ticket, answers=form.answers())
    stored = {a.question.kind: (a.number, a.text) for a in response.answers.all()}
    assert stored == {
        Question.Kind.RATING: (5, ""),
        Question.Kind.SCORE: (0, ""),
        Question.Kind.YES_NO: (0, ""),
        Question.Kind.TEXT: (None, "Great"),
    }
