"""Versions and revisions: every save keeps the text it replaces; the article follows its
default-language version."""

from knowledge import services
from knowledge.models import ArticleRevision, ArticleVersion


def test_every_save_keeps_a_revision_with_author_and_date(db, make_article, writer):
    article = make_article({"en": ("First title", "First text")}, author=writer)
    version = article.versions.get()
    services.save_version(
        article, language="en", title="Second title", body="Second text", author=writer
    )
    revisions = list(ArticleRevision.objects.filter(version=version))
    assert [r.body for r in revisions] == ["Second text", "First text"]  # newest first
    assert all(r.author == writer and r.created_at for r in revisions)
    version.refresh_from_db()
    assert version.body == "Second text"


def test_the_article_mirrors_its_default_version(db, make_article):
    article = make_article({"en": ("Title", "x")}, publish=False)
    assert not article.published
    services.save_version(
        article, language="pl", title="Tytuł", body="y", author=None, publish=True
    )
    article.refresh_from_db()
    assert not article.published  # the Polish one alone does not publish the article
    version = article.versions.get(language="en")
    services.set_published(version, True)
    article.refresh_from_db()
    assert article.published and article.title == "Title"
    services.save_version(article, language="en", title="New title", body="x", author=None)
    article.refresh_from_db()
    assert article.title == "New title" and article.published


def test_publishing_keeps_the_first_publication_date(db, make_article):
    article = make_article({"en": ("Title", "x")})
    version = ArticleVersion.objects.get(article=article)
    first = version.published_at
    services.set_published(version, False)
    services.set_published(version, True)
    version.refresh_from_db()
    assert version.published and version.published_at >= first
