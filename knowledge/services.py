"""Every change to the knowledge base: versions (with their revisions and search documents),
publishing, images and votes. Views call these; nothing else writes the rows."""

import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from knowledge import rendering, search
from knowledge.models import (
    Article,
    ArticleImage,
    ArticleRevision,
    ArticleVersion,
    ArticleVote,
)

MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "GIF": "image/gif", "WEBP": "image/webp"}
VISITOR_COOKIE = "kb_visitor"
VISITOR_SALT = "knowledge.visitor"


def _sync_article(article: Article) -> None:
    """The article's title and published flag follow its default-language version."""
    default = article.versions.filter(language=article.default_language).first()
    article.title = default.title if default else article.title
    article.published = bool(default and default.published)
    article.save(update_fields=["title", "published", "updated_at"])


@transaction.atomic
def save_version(
    article: Article, *, language: str, title: str, body: str, author, publish: bool | None = None
) -> ArticleVersion:
    """Write the text of ``article`` in ``language`` (new or changed): a revision is added
    (the text as saved, author and date, so every earlier text stays), the HTML and plain
    forms and the search document are rebuilt. ``publish``: None leaves the state alone."""
    now = timezone.now()
    version = (
        ArticleVersion.objects.select_for_update()
        .filter(article=article, language=language)
        .first()
    )
    if version is None:
        version = ArticleVersion(article=article, language=language)
    version.title = title
    version.body = body
    version.body_html = rendering.render(body)
    version.body_text = rendering.plain_text(version.body_html)
    version.updated_at = now
    version.updated_by = author
    if publish is not None:
        _set_state(version, publish, now)
    version.save()
    ArticleRevision.objects.create(
        version=version, title=title, body=body, author=author, created_at=now
    )
    search.index_versions([version])
    _sync_article(article)
    return version


def _set_state(version: ArticleVersion, publish: bool, now) -> None:
    if publish and not version.published:
        version.published_at = now
    version.published = publish


@transaction.atomic
def create_article(*, author, language: str, title: str, body: str, publish=False, **settings):
    """A new article (``settings``: category, pool, visibility, default language) with its
    first version, in ``language`` (the default language unless ``settings`` says other)."""
    settings.setdefault("default_language", language)
    article = Article.objects.create(title=title, **settings)
    save_version(article, language=language, title=title, body=body, author=author, publish=publish)
    article.refresh_from_db()
    return article


@transaction.atomic
def update_settings(article: Article, **settings) -> Article:
    for name, value in settings.items():
        setattr(article, name, value)
    article.save()
    _sync_article(article)
    return article


@transaction.atomic
def set_published(version: ArticleVersion, publish: bool) -> ArticleVersion:
    _set_state(version, publish, timezone.now())
    version.save(update_fields=["published", "published_at"])
    _sync_article(version.article)
    return version


def add_image(article: Article, upload, *, user) -> ArticleImage:
    """Store an uploaded image after checking it is one (PNG, JPEG, GIF or WebP, 5 MB)."""
    if upload.size > MAX_IMAGE_BYTES:
        raise ValidationError(_("An image may be 5 MB at most."))
    try:
        with Image.open(upload) as image:
            kind = image.format or ""
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ValidationError(_("This file is not an image we can show.")) from error
    if kind not in IMAGE_TYPES:
        raise ValidationError(_("Use a PNG, JPEG, GIF or WebP image."))
    upload.seek(0)
    return ArticleImage.objects.create(
        article=article, file=upload, content_type=IMAGE_TYPES[kind], uploaded_by=user
    )


# --- votes -----------------------------------------------------------------------------------


def visitor_token(request) -> tuple[str, bool]:
    """The visitor's random token from their signed cookie: (token, is it new?)."""
    token = request.get_signed_cookie(VISITOR_COOKIE, default="", salt=VISITOR_SALT)
    if token:
        return token, False
    return secrets.token_urlsafe(24), True


def visitor_key(request, token: str) -> str:
    """Who votes, hashed: a signed-in user by id (one vote whatever the browser), anyone
    else by their cookie's token. Only the keyed hash is stored."""
    who = f"user:{request.user.pk}" if request.user.is_authenticated else f"visitor:{token}"
    return salted_hmac(VISITOR_SALT, who, algorithm="sha256").hexdigest()


def vote(article: Article, *, visitor: str, helpful: bool) -> bool:
    """Count the vote unless this visitor voted on this article already; True if counted."""
    try:
        with transaction.atomic():
            ArticleVote.objects.create(article=article, visitor=visitor, helpful=helpful)
    except IntegrityError:
        return False
    return True


def has_voted(article: Article, visitor: str) -> bool:
    return ArticleVote.objects.filter(article=article, visitor=visitor).exists()


def with_vote_counts(articles):
    return articles.annotate(
        helpful_votes=Count("votes", filter=Q(votes__helpful=True), distinct=True),
        unhelpful_votes=Count("votes", filter=Q(votes__helpful=False), distinct=True),
    )
