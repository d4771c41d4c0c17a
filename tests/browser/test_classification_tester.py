"""An admin tests a Polish text against the keywords, from the topic list, in a real browser."""

import pytest

from people.models import Skill
from people.services import create_agent
from tests.browser.conftest import PASSWORD
from tests.factories import TopicFactory, UserFactory
from tickets.models import Product
from tickets.services.explain import explain_text

pytestmark = pytest.mark.browser

TEXT = "Reklamacja\nDzień dobry, w ostatniej fakturze jest błąd. Nie pamiętam też hasła do portalu."


def test_an_admin_sees_which_word_matched_which_keyword(
    db, new_context, live_server, page_problems, artifacts_dir
):
    from playwright.sync_api import expect

    TopicFactory(name="Billing", keywords="faktura, płatność")
    TopicFactory(name="Access", keywords="hasło, logowanie")
    Product.objects.create(name="ERP Finance", keywords="faktura")
    skill = Skill.objects.create(name="Invoices", keywords="faktura, nota fiscal")
    create_agent(username="ana", password=None, email="ana@helpdesk.test").agent_profile.skills.add(
        skill
    )
    UserFactory(username="root", is_staff=True, is_superuser=True, password=PASSWORD)
    # The live server runs in this process: load the language model and dictionaries here,
    # once, rather than within the page's time-out.
    explain_text(TEXT)
    page = page_problems.watch(new_context().new_page())
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/tickets/topic/")
    page.get_by_role("link", name="Classification tester").click()
    page.get_by_label("Text").fill(TEXT)
    page.get_by_role("button", name="Test").click()
    expect(page.locator("#tester-language")).to_contain_text("Polish")
    expect(page.locator("#tester-topics")).to_contain_text("fakturze → faktura")
    expect(page.locator("#tester-skills")).to_contain_text("Invoices")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=artifacts_dir / "classification-tester-1280.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=artifacts_dir / "classification-tester-390.png", full_page=True)
    # The admin has no favicon of its own; anything else is a defect.
    assert [item for item in page_problems.items if "favicon.ico" not in item] == []


def test_an_admin_translates_a_questionnaire_question_by_question(
    db, new_context, live_server, page_problems, artifacts_dir
):
    from playwright.sync_api import expect

    from surveys.models import Question, Questionnaire

    questionnaire = Questionnaire.objects.create(
        name="Satisfaction", kind=Questionnaire.Kind.SATISFACTION
    )
    Question.objects.create(
        questionnaire=questionnaire, text="How satisfied are you?", kind=Question.Kind.RATING
    )
    UserFactory(username="root", is_staff=True, is_superuser=True, password=PASSWORD)
    page = page_problems.watch(new_context().new_page())
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill("root")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/admin/surveys/questionnaire/{questionnaire.pk}/change/")
    page.get_by_label("Name (Polish)").fill("Ankieta")
    page.locator("#id_questions-0-text_pl").fill("Jak bardzo jesteś zadowolony?")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.screenshot(path=artifacts_dir / "questionnaire-translations-1280.png", full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=artifacts_dir / "questionnaire-translations-390.png", full_page=True)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist")).to_be_visible()
    questionnaire.refresh_from_db()
    assert questionnaire.translated("name", "pl") == "Ankieta"
    question = questionnaire.questions.get()
    assert question.translated("text", "pl") == "Jak bardzo jesteś zadowolony?"
    assert [item for item in page_problems.items if "favicon.ico" not in item] == []
