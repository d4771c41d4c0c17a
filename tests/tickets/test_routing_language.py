"""Keywords written in their base form match inflected words in the mail's language."""

import pytest

from people.language import detect_language
from people.models import Skill
from tests.factories import (
    AgentFactory,
    ContactFactory,
    MembershipFactory,
    TopicFactory,
    open_ticket,
)
from tickets.models import Product
from tickets.services.routing import Words


@pytest.mark.parametrize("word", ["fakturze", "fakturę", "faktury", "Fakturami", "FAKTURA"])
def test_a_polish_base_form_keyword_matches_its_inflected_forms(pool, word):
    topic = TopicFactory(keywords="faktura")
    ticket = open_ticket(pool, "Pytanie", text=f"Mam problem z {word} za marzec, proszę o pomoc.")
    assert ticket.topic == topic


@pytest.mark.parametrize(("keyword", "text"), [("hasło", "hasła"), ("hasło", "haseł")])
def test_polish_inflection_that_changes_the_stem_matches(keyword, text):
    words = Words(f"Nie pamiętam {text} do konta", "pl")
    assert words.matched([keyword]) == [keyword]
    assert words.evidence(keyword) == [text]


def test_a_portuguese_plural_with_a_changed_ending_matches_the_singular_keyword(pool):
    product = Product.objects.create(name="Telefonia", keywords="ramal")
    text = "Os ramais do escritório estão sem linha."
    ticket = open_ticket(pool, "Problema", text=text, language="pt-br")
    assert ticket.product == product


def test_the_keyword_is_lemmatised_too(pool):
    # "logowanie" (noun) and "logowania" share the lemma "logować".
    assert Words("Błąd logowania do systemu", "pl").matched(["logowanie"]) == ["logowanie"]


def test_lemmas_are_only_used_in_the_mail_language():
    assert Words("Nie pamiętam hasła", "en").matched(["hasło"]) == []
    assert Words("Nie pamiętam hasła", "pl").matched(["hasło"]) == ["hasło"]


def test_a_phrase_keyword_matches_inflected_words_in_order():
    words = Words("Proszę o korektę faktur VAT i not księgowych", "pl")
    assert words.matched(["faktura vat"]) == ["faktura vat"]
    assert words.matched(["vat faktura"]) == []


def test_a_portal_ticket_is_routed_in_the_language_it_is_written_in(pool):
    from tickets.services.portal import open_ticket_from_portal

    topic = TopicFactory(keywords="hasło")
    ticket = open_ticket_from_portal(
        contact=ContactFactory(language=""),
        actor=None,
        subject="Zmiana hasła",
        description="Dzień dobry, nie mogę zmienić hasła do konta. Pozdrawiam",
        pool=pool,
    )
    assert ticket.topic == topic


def test_skill_keywords_in_base_form_route_inflected_mail(pool):
    agent = AgentFactory()
    MembershipFactory(pool=pool, user=agent)
    skill = Skill.objects.create(name="Faktury", keywords="faktura, płatność")
    agent.agent_profile.skills.add(skill)
    text = "Proszę o korektę w fakturze i informację o płatności."
    ticket = open_ticket(pool, "Korekta", text=text, language="pl")
    assert ticket.assignee == agent
    routed = ticket.activity.filter(action="routed").values_list("detail", flat=True)
    assert "faktura" in " ".join(routed)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Dzień dobry, nie mogę się zalogować, zapomniałem hasła.", "pl"),
        ("Bom dia, não consigo acessar o sistema desde ontem.", "pt-br"),
        ("Hello, I cannot log in since yesterday's password reset.", "en"),
        ("Fatura", "fallback"),  # too short to tell
    ],
)
def test_the_language_of_a_text_is_detected_offline(text, language):
    assert detect_language(text, default="fallback") == language
