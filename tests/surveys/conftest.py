import pytest

from surveys.models import Dictionary, DictionaryItem, PoolSurveySettings, Question, Questionnaire

Kind = Question.Kind


@pytest.fixture(autouse=True)
def _eager_tasks(eager_tasks):
    """Mail queued after commit is sent in-process (locmem), never left in a broker folder."""


@pytest.fixture
def partners(db):
    dictionary = Dictionary.objects.create(name="Partners")
    for position, label in enumerate(["Azul", "Verde", "Retired"]):
        DictionaryItem.objects.create(
            dictionary=dictionary, label=label, position=position, active=label != "Retired"
        )
    return dictionary


@pytest.fixture
def satisfaction(db):
    questionnaire = Questionnaire.objects.create(
        name="Satisfaction", kind=Questionnaire.Kind.SATISFACTION
    )
    Question.objects.create(
        questionnaire=questionnaire, position=0, text="How satisfied?", kind=Kind.RATING
    )
    Question.objects.create(
        questionnaire=questionnaire, position=1, text="Recommend us?", kind=Kind.SCORE
    )
    Question.objects.create(
        questionnaire=questionnaire, position=2, text="Solved?", kind=Kind.YES_NO
    )
    Question.objects.create(
        questionnaire=questionnaire, position=3, text="Comments", kind=Kind.TEXT, required=False
    )
    return questionnaire


@pytest.fixture
def disposition(partners):
    questionnaire = Questionnaire.objects.create(
        name="Disposition", kind=Questionnaire.Kind.DISPOSITION
    )
    Question.objects.create(
        questionnaire=questionnaire,
        position=0,
        text="Which partner?",
        kind=Kind.SINGLE_CHOICE,
        dictionary=partners,
    )
    Question.objects.create(
        questionnaire=questionnaire,
        position=1,
        text="Which partners helped?",
        kind=Kind.MULTIPLE_CHOICE,
        dictionary=partners,
        required=False,
    )
    return questionnaire


@pytest.fixture
def operator_rating(db):
    questionnaire = Questionnaire.objects.create(
        name="Rate it", kind=Questionnaire.Kind.OPERATOR_RATING
    )
    Question.objects.create(
        questionnaire=questionnaire, text="How did it go?", kind=Kind.RATING, required=False
    )
    return questionnaire


@pytest.fixture
def survey_settings(pool, satisfaction, disposition, operator_rating):
    return PoolSurveySettings.objects.create(
        pool=pool,
        satisfaction_enabled=True,
        satisfaction_questionnaire=satisfaction,
        disposition_questionnaire=disposition,
        disposition_required=True,
        operator_rating_questionnaire=operator_rating,
    )


def satisfaction_answers(questionnaire, *, rating=5, score=9, solved=1, comment="Great"):
    """POST data answering the satisfaction fixture's four questions."""
    questions = list(questionnaire.questions.order_by("position"))
    values = [rating, score, solved, comment]
    return {f"q{q.pk}": value for q, value in zip(questions, values, strict=True)}
