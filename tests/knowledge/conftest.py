import pytest
from django.contrib.auth.models import Permission

from knowledge import services
from knowledge.models import Visibility


@pytest.fixture
def make_article(db):
    """An article through the service: ``texts`` maps a language to (title, markdown)."""

    def make(texts, *, publish=True, visibility=Visibility.PUBLIC, author=None, **settings):
        (language, (title, body)), *others = texts.items()
        article = services.create_article(
            author=author,
            language=language,
            title=title,
            body=body,
            publish=publish,
            visibility=visibility,
            **settings,
        )
        for language, (title, body) in others:
            services.save_version(
                article, language=language, title=title, body=body, author=author, publish=publish
            )
        return article

    return make


@pytest.fixture
def writer(agent):
    agent.user_permissions.add(
        Permission.objects.get(codename="write_articles", content_type__app_label="knowledge")
    )
    return agent


@pytest.fixture
def writer_client(client, writer):
    client.force_login(writer)
    return client
