"""Surveys speak the respondent's language: the mail, the page, the questions and choices."""

import pytest

from mailboxes.models import OutgoingEmail
from surveys.models import Dictionary, DictionaryItem, Question, Questionnaire, SurveyInvitation
from surveys.services import survey_url
from tests.factories import ContactFactory
from tickets import services
from tickets.services import portal
from tickets.states import Status

Kind = Question.Kind
SUBJECT = {"pl": "Jak nam poszło?", "pt-br": "Como foi nosso atendimento?"}
TEXTS = {
    "pl": {"name": "Ankieta", "question": "Czy jesteś zadowolony?", "choice": "Bardzo"},
    "pt-br": {"name": "Pesquisa", "question": "Está satisfeito?", "choice": "Muito"},
}


@pytest.fixture
def questionnaire(db):
    questionnaire = Questionnaire.objects.create(
        name="Survey",
        kind=Questionnaire.Kind.SATISFACTION,
        translations={code: {"name": texts["name"]} for code, texts in TEXTS.items()},
    )
    Question.objects.create(
        questionnaire=questionnaire,
        text="Are you happy?",
        kind=Kind.RATING,
        translations={code: {"text": texts["question"]} for code, texts in TEXTS.items()},
    )
    levels = Dictionary.objects.create(name="Levels")
    DictionaryItem.objects.create(
        dictionary=levels,
        label="Very",
        translations={code: {"label": texts["choice"]} for code, texts in TEXTS.items()},
    )
    DictionaryItem.objects.create(dictionary=levels, label="Somewhat")  # not translated
    Question.objects.create(
        questionnaire=questionnaire,
        text="How much?",
        kind=Kind.SINGLE_CHOICE,
        dictionary=levels,
        required=False,
    )
    return questionnaire


def _closed_ticket(pool, agent, questionnaire, language, django_capture_on_commit_callbacks):
    from surveys.models import PoolSurveySettings

    PoolSurveySettings.objects.create(
        pool=pool, satisfaction_enabled=True, satisfaction_questionnaire=questionnaire
    )
    customer = ContactFactory(language=language)
    ticket = portal.open_ticket_from_portal(
        contact=customer, actor=None, subject="Help", description="x", pool=pool
    )
    ticket = services.assign_ticket(ticket, agent=agent, actor=agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(ticket, to=Status.CLOSED, actor=agent)
    return ticket


@pytest.mark.parametrize("language", ["pl", "pt-br"])
def test_the_survey_invitation_speaks_the_customers_language(
    pool, agent, questionnaire, language, django_capture_on_commit_callbacks
):
    _closed_ticket(pool, agent, questionnaire, language, django_capture_on_commit_callbacks)
    mail = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.NOTIFICATION)
    assert mail.subject.startswith(SUBJECT[language])


@pytest.mark.parametrize("language", ["pl", "pt-br"])
def test_the_survey_page_shows_the_questionnaire_in_the_respondents_language(
    client, pool, agent, questionnaire, language, django_capture_on_commit_callbacks
):
    _closed_ticket(pool, agent, questionnaire, language, django_capture_on_commit_callbacks)
    # The browser asks for English: the respondent's own language wins.
    page = client.get(survey_url(SurveyInvitation.objects.get()), HTTP_ACCEPT_LANGUAGE="en")
    html = page.content.decode()
    texts = TEXTS[language]
    assert texts["name"] in html
    assert texts["question"] in html
    assert texts["choice"] in html
    assert "Somewhat" in html  # an entry without a translation keeps its default text
    assert "Are you happy?" not in html
    assert f'lang="{language}"' in html


def test_a_questionnaire_without_translations_shows_its_default_text(
    client, pool, agent, satisfaction, django_capture_on_commit_callbacks
):
    _closed_ticket(pool, agent, satisfaction, "pl", django_capture_on_commit_callbacks)
    page = client.get(survey_url(SurveyInvitation.objects.get()))
    assert "How satisfied?" in page.content.decode()
    assert "Wyślij moje odpowiedzi" in page.content.decode()


def test_translations_are_edited_per_language_in_the_questionnaire_admin(
    admin_client, questionnaire
):
    url = f"/admin/surveys/questionnaire/{questionnaire.pk}/change/"
    page = admin_client.get(url)
    form = page.context["adminform"].form
    assert form["name_pl"].value() == "Ankieta"
    data = {
        "name": "Survey",
        "kind": Questionnaire.Kind.SATISFACTION,
        "description": "",
        "active": "on",
        "name_pl": "Ankieta po zgłoszeniu",
        "name_pt_br": "",
        "description_pl": "Dziękujemy!",
        "description_pt_br": "",
        "questions-TOTAL_FORMS": "0",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    questionnaire.refresh_from_db()
    assert questionnaire.translations == {
        "pl": {"name": "Ankieta po zgłoszeniu", "description": "Dziękujemy!"}
    }
    assert questionnaire.translated("name", "pt-br") == "Survey"
