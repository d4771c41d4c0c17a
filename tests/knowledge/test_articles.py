"""Help articles on the portal: customers search the published public ones before opening a
ticket, with the same engine as the tickets."""

from django.urls import reverse

SEARCH_QUERIES = 6


def test_search_finds_published_articles_by_every_word(customer_client, make_article):
    make_article({"en": ("Reset your router", "Unplug it.")})
    make_article({"en": ("Router lights", "Green means fine.")})
    make_article({"en": ("Draft about routers", "secret draft")}, publish=False)
    page = customer_client.get(reverse("knowledge:search"), {"q": "ROUTER reset"}).content.decode()
    assert "Reset your router" in page
    assert "Router lights" not in page
    page = customer_client.get(reverse("knowledge:search"), {"q": "router"}).content.decode()
    assert "Router lights" in page
    assert "Draft about routers" not in page


def test_search_can_be_narrowed_to_a_department(customer_client, pool, other_pool, make_article):
    make_article({"en": ("Invoice copy", "x")}, pool=pool)
    make_article({"en": ("Invoice hardware", "x")}, pool=other_pool)
    page = customer_client.get(
        reverse("knowledge:search"), {"q": "invoice", "pool": pool.pk}
    ).content.decode()
    assert "Invoice copy" in page
    assert "Invoice hardware" not in page


def test_an_unpublished_article_is_not_found(customer_client, make_article):
    draft = make_article({"en": ("Draft", "x")}, publish=False)
    assert customer_client.get(draft.get_absolute_url()).status_code == 404


def test_a_published_article_is_shown_formatted_with_a_way_to_open_a_ticket(
    customer_client, make_article
):
    article = make_article({"en": ("Fix it", "Line **one**\n\nLine two")})
    page = customer_client.get(article.get_absolute_url()).content.decode()
    assert "<p>Line <strong>one</strong></p>" in page
    assert reverse("portal:new") in page


def test_articles_need_a_customer_sign_in_on_the_portal(client):
    response = client.get(reverse("knowledge:search"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("portal:login"))


def test_the_search_page_costs_a_fixed_number_of_queries(
    customer_client, pool, make_article, django_assert_max_num_queries
):
    for i in range(30):
        make_article({"en": (f"Router {i}", "x")}, pool=pool)
    with django_assert_max_num_queries(SEARCH_QUERIES):
        response = customer_client.get(reverse("knowledge:search"), {"q": "router"})
    assert response.status_code == 200
    assert response.content.decode().count("kb-result") == 20


def test_the_article_page_costs_a_fixed_number_of_queries(
    customer_client, pool, make_article, django_assert_max_num_queries
):
    article = make_article({"en": ("Fix it", "x"), "pl": ("Napraw", "y")}, pool=pool)
    with django_assert_max_num_queries(6):
        assert customer_client.get(article.get_absolute_url()).status_code == 200


def test_the_portal_lists_articles_by_category(customer_client, make_article):
    from knowledge.models import Category

    billing = Category.objects.create(name="Billing", name_pl="Rozliczenia")
    make_article({"en": ("Invoice copy", "x")}, category=billing)
    page = customer_client.get(reverse("knowledge:search")).content.decode()
    assert "Billing" in page and "Invoice copy" in page
