"""The public help centre: no sign-in, readers' language with fallback, search with the
tickets' engine (inflected words), one vote per visitor, images."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from knowledge import services
from knowledge.models import ArticleVote, Category

TEXTS = {
    "en": ("Resetting your password", "Use the *Forgot password* link on the sign-in page."),
    "pl": ("Jak zresetować hasło", "Użyj linku *Nie pamiętam hasła* na stronie logowania."),
    "pt-br": ("Como redefinir sua senha", "Use o link *Esqueci a senha*. As senhas expiram."),
}


def _get(client, name, *args, language="en", **params):
    return client.get(reverse(name, args=args), params, HTTP_ACCEPT_LANGUAGE=language)


def test_the_help_centre_needs_no_sign_in_and_groups_by_category(client, make_article):
    account = Category.objects.create(name="Your account", name_pl="Twoje konto")
    make_article(TEXTS, category=account)
    page = _get(client, "help:home").content.decode()
    assert "Your account" in page and "Resetting your password" in page
    page = _get(client, "help:home", language="pl").content.decode()
    assert "Twoje konto" in page and "Jak zresetować hasło" in page
    assert "Resetting your password" not in page


def test_the_article_is_shown_in_the_readers_language(client, make_article):
    article = make_article(TEXTS)
    page = _get(client, "help:article", article.pk, language="pl").content.decode()
    assert "Jak zresetować hasło" in page and "<em>Nie pamiętam hasła</em>" in page
    page = _get(client, "help:article", article.pk, language="pt-br").content.decode()
    assert "Como redefinir sua senha" in page


def test_a_missing_or_draft_language_falls_back_to_the_default_one(client, make_article):
    article = make_article({"en": TEXTS["en"]})
    services.save_version(
        article, language="pl", title="Szkic po polsku", body="x", author=None, publish=False
    )
    page = _get(client, "help:article", article.pk, language="pl").content.decode()
    assert "Resetting your password" in page
    assert "Szkic po polsku" not in page
    # pt-br has no version at all: the default language too.
    page = _get(client, "help:article", article.pk, language="pt-br").content.decode()
    assert "Resetting your password" in page


def test_the_default_language_is_the_articles_own(client, make_article):
    article = make_article({"pl": TEXTS["pl"]})
    assert article.default_language == "pl"
    page = _get(client, "help:article", article.pk, language="en").content.decode()
    assert "Jak zresetować hasło" in page


@pytest.mark.parametrize(
    ("language", "query", "title"),
    [
        ("pl", "haseł", "Jak zresetować hasło"),  # genitive plural of "hasło"
        ("pl", "hasłem logowanie", "Jak zresetować hasło"),
        ("pt-br", "senhas", "Como redefinir sua senha"),
        ("pt-br", "redefinição senha", None),  # every word must match
        ("en", "passwords", "Resetting your password"),
        ("en", '"sign-in page"', "Resetting your password"),
    ],
)
def test_search_finds_inflected_words(client, make_article, language, query, title):
    make_article(TEXTS)
    make_article({"en": ("Invoices", "Download them as PDF.")})
    page = _get(client, "help:search", language=language, q=query).content.decode()
    if title is None:
        assert "kb-result" not in page
    else:
        assert title in page
        assert page.count("kb-result") == 1


def test_one_vote_per_visitor(client, make_article):
    article = make_article(TEXTS)
    url = reverse("help:vote", args=[article.pk])
    first = client.post(url, {"helpful": "yes"})
    assert first.status_code == 302
    assert client.post(url, {"helpful": "no"}).status_code == 302
    assert ArticleVote.objects.filter(article=article).count() == 1
    assert ArticleVote.objects.get().helpful is True
    page = _get(client, "help:article", article.pk).content.decode()
    assert "your answer was counted" in page
    # Another visitor (no cookie) counts once too.
    client.cookies.clear()
    client.post(url, {"helpful": "no"})
    assert ArticleVote.objects.filter(article=article).count() == 2


def test_a_forged_visitor_cookie_is_not_a_new_visitor_for_free(client, make_article):
    article = make_article(TEXTS)
    client.cookies[services.VISITOR_COOKIE] = "forged"
    client.post(reverse("help:vote", args=[article.pk]), {"helpful": "yes"})
    cookie = client.cookies[services.VISITOR_COOKIE].value
    assert cookie != "forged" and ":" in cookie  # replaced by a signed one
    client.post(reverse("help:vote", args=[article.pk]), {"helpful": "yes"})
    assert ArticleVote.objects.count() == 1


def test_a_signed_in_customer_votes_once_whatever_the_browser(client, customer_user, make_article):
    article = make_article(TEXTS)
    url = reverse("help:vote", args=[article.pk])
    client.force_login(customer_user)
    client.post(url, {"helpful": "yes"})
    client.cookies.pop(services.VISITOR_COOKIE, None)
    client.post(url, {"helpful": "yes"})
    assert ArticleVote.objects.count() == 1


def test_the_vote_only_redirects_to_this_site(client, make_article):
    article = make_article(TEXTS)
    response = client.post(
        reverse("help:vote", args=[article.pk]), {"helpful": "yes", "next": "https://evil.test/"}
    )
    assert response.url == reverse("help:article", args=[article.pk])


def test_votes_are_counted_for_agents(agent_client, make_article):
    article = make_article(TEXTS)
    url = reverse("help:vote", args=[article.pk])
    Client().post(url, {"helpful": "yes"})
    page = agent_client.get(reverse("kb:list")).content.decode()
    assert 'bi-hand-thumbs-up"></i> 1' in page
    page = agent_client.get(reverse("kb:article", args=[article.pk])).content.decode()
    assert 'bi-hand-thumbs-up"></i> 1' in page


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(buffer, "PNG")
    return SimpleUploadedFile("router.png", buffer.getvalue(), content_type="image/png")


def test_images_of_public_articles_are_served_to_anyone(client, make_article, writer):
    article = make_article(TEXTS)
    image = services.add_image(article, _png(), user=writer)
    response = client.get(image.get_absolute_url())
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    response.close()


def test_a_file_that_is_not_an_image_is_refused(db, make_article, writer):
    from django.core.exceptions import ValidationError

    article = make_article(TEXTS)
    svg = SimpleUploadedFile("x.png", b"<svg onload='alert(1)'/>", content_type="image/png")
    with pytest.raises(ValidationError):
        services.add_image(article, svg, user=writer)


def test_the_help_centre_home_costs_a_fixed_number_of_queries(
    client, make_article, django_assert_max_num_queries
):
    for i in range(25):
        make_article({"en": (f"Router {i}", "x"), "pl": (f"Router {i} pl", "y")})
    with django_assert_max_num_queries(3):
        assert _get(client, "help:home", language="pl").status_code == 200
