"""Today's plain-text articles become versions (public, published as they were) in the
language their text is written in, each with a first revision and a search document."""

from django.db import migrations
from django.utils import timezone


def forward(apps, schema_editor):
    from knowledge import rendering
    from knowledge.search import document
    from people.language import detect_language

    Article = apps.get_model("knowledge", "Article")
    versions = apps.get_model("knowledge", "ArticleVersion")
    revisions = apps.get_model("knowledge", "ArticleRevision")
    documents = apps.get_model("knowledge", "ArticleSearch")
    now = timezone.now()
    for article in Article.objects.all():
        language = detect_language(f"{article.title}\n{article.body}", default="en")
        html = rendering.render(article.body)
        text = rendering.plain_text(html)
        version = versions.objects.create(
            article=article,
            language=language,
            title=article.title,
            body=article.body,
            body_html=html,
            body_text=text,
            published=article.published,
            published_at=article.updated_at if article.published else None,
            updated_at=article.updated_at or now,
        )
        revisions.objects.create(
            version=version, title=article.title, body=article.body, created_at=version.updated_at
        )
        documents.objects.create(version=version, document=document(article.title, text, language))
        Article.objects.filter(pk=article.pk).update(default_language=language)


def backward(apps, schema_editor):
    Article = apps.get_model("knowledge", "Article")
    versions = apps.get_model("knowledge", "ArticleVersion")
    for article in Article.objects.all():
        version = versions.objects.filter(
            article=article, language=article.default_language
        ).first()
        if version is not None:
            Article.objects.filter(pk=article.pk).update(body=version.body)


class Migration(migrations.Migration):

    dependencies = [
        ("knowledge", "0002_knowledge_base"),
    ]

    operations = [migrations.RunPython(forward, backward)]
