"""As a customer types a new ticket's subject, matching public articles appear."""

from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from knowledge.views import public


def test_the_subject_field_asks_for_suggestions(customer_client):
    page = customer_client.get(reverse("portal:new")).content.decode()
    assert reverse("knowledge:suggest") in page
    assert 'id="article-suggestions"' in page


def test_suggestions_match_any_word_of_the_subject(customer_client, make_article):
    make_article({"en": ("Internet down: what to check first", "Restart the router.")})
    make_article({"en": ("Invoices", "Download them.")})
    response = customer_client.get(
        reverse("knowledge:suggest"), {"subject": "my router keeps restarting"}
    )
    page = response.content.decode()
    assert "Internet down" in page and "Invoices" not in page


def test_suggestions_are_rate_limited(customer_client, make_article):
    cache.clear()
    url = reverse("knowledge:suggest")
    codes = [
        customer_client.get(url, {"subject": "router"}).status_code
        for _ in range(public.SUGGESTIONS_PER_MINUTE + 1)
    ]
    assert codes[:-1] == [200] * public.SUGGESTIONS_PER_MINUTE
    assert codes[-1] == 429


def test_suggestions_need_a_customer(agent_client):
    assert Client().get(reverse("knowledge:suggest"), {"subject": "x"}).status_code == 302
    assert agent_client.get(reverse("knowledge:suggest"), {"subject": "x"}).status_code == 404
