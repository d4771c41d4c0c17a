"""Help articles: customers search the published ones before opening a ticket."""

from django.urls import reverse

from knowledge.models import Article

SEARCH_QUERIES = 6


def test_search_finds_published_articles_by_every_word(customer_client, pool):
    Article.objects.create(title="Reset your router", body="Unplug it.", published=True)
    Article.objects.create(title="Router lights", body="Green means fine.", published=True)
    Article.objects.create(title="Draft about routers", body="secret draft", published=False)
    page = customer_client.get(reverse("knowledge:search"), {"q": "ROUTER reset"}).content.decode()
    assert "Reset your router" in page
    assert "Router lights" not in page
    assert (
        "Draft about routers"
        not in customer_client.get(reverse("knowledge:search"), {"q": "router"}).content.decode()
    )


def test_search_can_be_narrowed_to_a_department(customer_client, pool, other_pool):
    Article.objects.create(title="Invoice copy", body="x", pool=pool, published=True)
    Article.objects.create(title="Invoice hardware", body="x", pool=other_pool, published=True)
    page = customer_client.get(
        reverse("knowledge:search"), {"q": "invoice", "pool": pool.pk}
    ).content.decode()
    assert "Invoice copy" in page
    assert "Invoice hardware" not in page


def test_an_unpublished_article_is_not_found(customer_client):
    draft = Article.objects.create(title="Draft", body="x", published=False)
    assert customer_client.get(draft.get_absolute_url()).status_code == 404


def test_a_published_article_is_shown_with_a_way_to_open_a_ticket(customer_client):
    article = Article.objects.create(title="Fix it", body="Line one\n\nLine two", published=True)
    page = customer_client.get(article.get_absolute_url()).content.decode()
    assert "<p>Line one</p>" in page
    assert reverse("portal:new") in page


def test_articles_need_a_customer_sign_in(client):
    response = client.get(reverse("knowledge:search"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("portal:login"))


def test_the_search_page_costs_a_fixed_number_of_queries(
    customer_client, pool, django_assert_max_num_queries
):
    for i in range(30):
        Article.objects.create(title=f"Router {i}", body="x", pool=pool, published=True)
    with django_assert_max_num_queries(SEARCH_QUERIES):
        response = customer_client.get(reverse("knowledge:search"), {"q": "router"})
    assert response.status_code == 200
    assert response.content.decode().count('class="list-group-item list-group-item-action"') == 20


def test_the_article_page_costs_a_fixed_number_of_queries(
    customer_client, pool, django_assert_max_num_queries
):
    article = Article.objects.create(title="Fix it", body="x", pool=pool, published=True)
    with django_assert_max_num_queries(5):
        assert customer_client.get(article.get_absolute_url()).status_code == 200
