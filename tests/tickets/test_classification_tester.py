"""The admin's classification tester: paste a text, see what its keywords match and why."""

import pytest
from django.contrib.auth.models import Permission

from people.models import Skill
from tests.factories import TopicFactory, UserFactory
from tickets.models import Product
from tickets.services.explain import explain_text

URL = "/admin/tickets/topic/classification-tester/"
POLISH = "Reklamacja\nDzień dobry, w ostatniej fakturze jest błąd. Nie pamiętam też hasła."


@pytest.fixture
def catalog(db, agent):
    TopicFactory(name="Billing", keywords="faktura, płatność")
    TopicFactory(name="Access", keywords="hasło")
    Product.objects.create(name="ERP", keywords="faktura")
    skill = Skill.objects.create(name="Invoices", keywords="faktura")
    agent.agent_profile.skills.add(skill)


def test_the_explanation_names_each_keyword_and_the_word_that_matched_it(catalog):
    explanation = explain_text(POLISH)
    assert (explanation.language, explanation.detected) == ("pl", True)
    topics = {row.entry.name: row for row in explanation.topics}
    assert {m.keyword: m.words for m in topics["Billing"].matches} == {"faktura": ["fakturze"]}
    assert {m.keyword: m.words for m in topics["Access"].matches} == {"hasło": ["hasła"]}
    assert [row.entry.name for row in explanation.products] == ["ERP"]
    [skill] = explanation.skills
    assert skill.entry.name == "Invoices"
    assert skill.holders


def test_a_chosen_language_is_used_instead_of_the_detected_one(catalog):
    explanation = explain_text(POLISH, language="en")
    assert (explanation.language, explanation.detected) == ("en", False)
    assert explanation.topics == []  # "fakturze" is not English for "faktura"


def test_the_tester_page_shows_the_matches_and_why(admin_client, catalog):
    page = admin_client.post(URL, {"text": POLISH, "language": ""})
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="tester-topics"' in html
    assert "fakturze → <strong>faktura</strong>" in html
    assert "hasła → <strong>hasło</strong>" in html
    assert "Invoices" in html


def test_the_topic_list_links_to_the_tester(admin_client, db):
    assert URL.encode() in admin_client.get("/admin/tickets/topic/").content


def test_only_staff_with_access_to_topics_may_use_the_tester(client, db):
    assert client.get(URL).status_code == 302  # to the admin sign-in
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    assert client.post(URL, {"text": POLISH}).status_code == 403
    staff.user_permissions.add(Permission.objects.get(codename="view_topic"))
    assert client.post(URL, {"text": POLISH}).status_code == 200


def test_the_tester_form_needs_its_csrf_token(admin_user, catalog):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_user)
    assert strict.post(URL, {"text": POLISH}).status_code == 403
