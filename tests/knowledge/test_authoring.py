"""Agents with the permission write, preview, publish and unpublish articles in the product;
revisions are listed and shown."""

import pytest
from django.urls import reverse

from knowledge.models import Article, ArticleRevision, Visibility


def test_an_agent_without_the_permission_cannot_write(agent_client, make_article):
    article = make_article({"en": ("T", "x")})
    version = article.versions.get()
    for url in [
        reverse("kb:create"),
        reverse("kb:edit", args=[article.pk, "en"]),
        reverse("kb:revisions", args=[version.pk]),
    ]:
        assert agent_client.get(url).status_code == 404, url
    assert agent_client.post(reverse("kb:publish", args=[version.pk])).status_code == 404
    assert agent_client.post(reverse("kb:preview"), {"body": "x"}).status_code == 404
    # Reading is for every agent.
    assert agent_client.get(reverse("kb:list")).status_code == 200
    assert agent_client.get(reverse("kb:article", args=[article.pk])).status_code == 200


def test_supervisors_write_articles(client, supervisor):
    client.force_login(supervisor)
    assert client.get(reverse("kb:create")).status_code == 200


def test_a_writer_creates_an_article_as_a_draft_then_publishes_it(writer_client, writer):
    response = writer_client.post(
        reverse("kb:create"),
        {
            "language": "en",
            "title": "Router lights",
            "body": "Green means **fine**.",
            "settings-default_language": "en",
            "settings-visibility": Visibility.PUBLIC,
        },
    )
    article = Article.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("kb:edit", args=[article.pk, "en"])
    assert not article.published
    version = article.versions.get()
    assert version.updated_by == writer and "<strong>fine</strong>" in version.body_html
    writer_client.post(reverse("kb:publish", args=[version.pk]), {"publish": "1"})
    article.refresh_from_db()
    assert article.published
    writer_client.post(reverse("kb:publish", args=[version.pk]), {"publish": "0"})
    article.refresh_from_db()
    assert not article.published


def test_a_writer_adds_a_translation_and_every_save_is_a_revision(writer_client, make_article):
    article = make_article({"en": ("Router lights", "Green means fine.")})
    url = reverse("kb:edit", args=[article.pk, "pl"])
    page = writer_client.get(url).content.decode()
    assert "Green means fine." in page  # a translation starts from the default text
    writer_client.post(
        url, {"title": "Diody routera", "body": "Zielona: dobrze.", "then": "publish"}
    )
    writer_client.post(url, {"title": "Diody routera", "body": "Zielona dioda: dobrze."})
    version = article.versions.get(language="pl")
    assert version.published and version.body == "Zielona dioda: dobrze."
    assert list(version.revisions.values_list("body", flat=True)) == [
        "Zielona dioda: dobrze.",
        "Zielona: dobrze.",
    ]
    page = writer_client.get(reverse("kb:revisions", args=[version.pk])).content.decode()
    assert page.count("revision-row") == 2
    old = ArticleRevision.objects.get(body="Zielona: dobrze.")
    page = writer_client.get(reverse("kb:revision", args=[old.pk])).content.decode()
    assert "Zielona: dobrze." in page


def test_the_preview_is_rendered_and_sanitised(writer_client):
    response = writer_client.post(
        reverse("kb:preview"), {"body": "**b** <script>x()</script>[a](javascript:x())"}
    )
    html = response.content.decode()
    assert "<strong>b</strong>" in html
    assert "<script" not in html and 'href="javascript' not in html


def test_an_unknown_language_is_a_404(writer_client, make_article):
    article = make_article({"en": ("T", "x")})
    assert writer_client.get(reverse("kb:edit", args=[article.pk, "de"])).status_code == 404


def test_settings_change_visibility(writer_client, make_article):
    article = make_article({"en": ("T", "x")})
    writer_client.post(
        reverse("kb:settings", args=[article.pk]),
        {"settings-default_language": "en", "settings-visibility": Visibility.INTERNAL},
    )
    article.refresh_from_db()
    assert article.visibility == Visibility.INTERNAL


@pytest.mark.parametrize("name", ["kb:list", "kb:create"])
def test_customers_get_404(customer_client, name):
    assert customer_client.get(reverse(name)).status_code == 404


def test_an_image_is_uploaded_from_the_editor(writer_client, make_article):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    article = make_article({"en": ("T", "x")})
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, "PNG")
    upload = SimpleUploadedFile("a.png", buffer.getvalue(), content_type="image/png")
    response = writer_client.post(reverse("kb:upload", args=[article.pk]), {"image": upload})
    assert response.status_code == 200
    image = article.images.get()
    assert f"![]({image.get_absolute_url()})" in response.content.decode()
