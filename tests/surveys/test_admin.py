"""Admins configure questionnaires, surveys, notifications and articles in Django admin."""

import pytest
from django.urls import reverse

MODELS = [
    "surveys_dictionary",
    "surveys_questionnaire",
    "surveys_poolsurveysettings",
    "surveys_mailboxsurveysettings",
    "surveys_surveyinvitation",
    "surveys_response",
    "mailboxes_notificationrule",
    "knowledge_article",
    "people_signinlink",
]


@pytest.mark.parametrize("model", MODELS)
def test_every_new_model_has_an_admin_list(client, admin_user, model, survey_settings):
    client.force_login(admin_user)
    assert client.get(reverse(f"admin:{model}_changelist")).status_code == 200


@pytest.mark.parametrize(
    "model",
    ["surveys_questionnaire", "surveys_dictionary", "mailboxes_notificationrule"],
)
def test_admins_can_open_the_add_forms(client, admin_user, model):
    client.force_login(admin_user)
    assert client.get(reverse(f"admin:{model}_add")).status_code == 200


def test_the_notification_rules_list_one_row_per_event_out_of_the_box(client, admin_user):
    from mailboxes.models import NotificationRule

    assert NotificationRule.objects.filter(pool=None).count() == len(NotificationRule.Event)
    assert not NotificationRule.objects.filter(enabled=True).exists()


def test_an_admin_builds_a_questionnaire_with_questions(client, admin_user, partners):
    from surveys.models import Questionnaire

    client.force_login(admin_user)
    data = {
        "name": "After-call",
        "kind": "disposition",
        "description": "",
        "active": "on",
        "questions-TOTAL_FORMS": "2",
        "questions-INITIAL_FORMS": "0",
        "questions-MIN_NUM_FORMS": "0",
        "questions-MAX_NUM_FORMS": "1000",
        "questions-0-position": "0",
        "questions-0-text": "Which partner?",
        "questions-0-kind": "single_choice",
        "questions-0-required": "on",
        "questions-0-dictionary": str(partners.pk),
        "questions-1-position": "1",
        "questions-1-text": "Which partner, no list?",
        "questions-1-kind": "single_choice",
        "questions-1-required": "on",
    }
    response = client.post(reverse("admin:surveys_questionnaire_add"), data)
    assert response.status_code == 200  # the second question has no dictionary
    assert "A choice question needs a dictionary." in response.content.decode()
    data["questions-1-kind"] = "yes_no"
    response = client.post(reverse("admin:surveys_questionnaire_add"), data)
    assert response.status_code == 302
    assert Questionnaire.objects.get(name="After-call").questions.count() == 2
