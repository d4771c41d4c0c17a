"""The knowledge base: categories, articles, their versions per language and revisions.

An ``Article`` is the thing (category, department, default language, public or internal);
its text lives in one ``ArticleVersion`` per language, written in Markdown and kept rendered
(sanitised HTML) and as plain text. Every save of a version adds an ``ArticleRevision`` (the
text as saved, its author and date), so the previous text is always kept. ``Article.title``
and ``Article.published`` mirror the default-language version (services keep them), so a
list of articles needs no join.

Readers see a version when it is published and its article is public; agents see every
published version, and authors (``knowledge.write_articles``) drafts too.
"""

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from tickets.models import Pool

WRITE_ARTICLES = "knowledge.write_articles"
LANGUAGE_CHOICES = settings.LANGUAGES


class Visibility(models.TextChoices):
    PUBLIC = "public", _("Public: customers and visitors")
    INTERNAL = "internal", _("Internal: agents only")


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100)
    name_pt_br = models.CharField(_("name in Brazilian Portuguese"), max_length=100, blank=True)
    name_pl = models.CharField(_("name in Polish"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.localized_name()

    def localized_name(self, language: str | None = None) -> str:
        """The name in ``language`` (the current one by default), else the English name."""
        language = language or get_language() or ""
        named = {"pt-br": self.name_pt_br, "pl": self.name_pl}.get(language.lower(), "")
        return named or self.name


class ArticleQuerySet(models.QuerySet):
    def published(self):
        """Articles whose default-language version is published (any audience)."""
        return self.filter(published=True)

    def public(self):
        return self.filter(visibility=Visibility.PUBLIC)


class Article(models.Model):
    # The default-language version's title and state, kept by knowledge.services.
    title = models.CharField(_("title"), max_length=200)
    published = models.BooleanField(_("published"), default=False)
    category = models.ForeignKey(
        Category,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("category"),
    )
    pool = models.ForeignKey(
        Pool,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("department"),
        help_text=_("Empty: about everything."),
    )
    default_language = models.CharField(
        _("default language"),
        max_length=10,
        choices=LANGUAGE_CHOICES,
        default="en",
        help_text=_("Readers whose language has no published version read this one."),
    )
    visibility = models.CharField(
        _("visibility"), max_length=10, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        indexes = [models.Index(fields=["published", "title"], name="article_published_idx")]
        permissions = [("write_articles", _("Can write and publish knowledge base articles"))]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("knowledge:article", args=[self.pk])

    @property
    def is_public(self) -> bool:
        return self.visibility == Visibility.PUBLIC


class VersionQuerySet(models.QuerySet):
    def readable(self):
        """What anyone may read: published versions of public articles."""
        return self.filter(published=True, article__visibility=Visibility.PUBLIC)

    def for_agents(self):
        return self.filter(published=True)


class ArticleVersion(models.Model):
    """An article's text in one language (Markdown; rendered and plain forms kept)."""

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="versions", verbose_name=_("article")
    )
    language = models.CharField(_("language"), max_length=10, choices=LANGUAGE_CHOICES)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), help_text=_("Markdown."))
    body_html = models.TextField(editable=False, blank=True)
    body_text = models.TextField(editable=False, blank=True)
    published = models.BooleanField(_("published"), default=False)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("updated by"),
    )

    objects = VersionQuerySet.as_manager()

    class Meta:
        ordering = ["article_id", "language"]
        verbose_name = _("article version")
        verbose_name_plural = _("article versions")
        constraints = [
            models.UniqueConstraint(fields=["article", "language"], name="unique_article_language")
        ]
        indexes = [models.Index(fields=["published", "language"], name="version_published_idx")]

    def __str__(self):
        return f"{self.title} ({self.language})"


class ArticleRevision(models.Model):
    """A version's text as it was saved: who, when. The newest is the current text."""

    version = models.ForeignKey(ArticleVersion, on_delete=models.CASCADE, related_name="revisions")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("saved"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")

    def __str__(self):
        return f"{self.title} @ {self.created_at:%Y-%m-%d %H:%M}"


class ArticleImage(models.Model):
    """An image shown in articles; served by knowledge.views.image, never from MEDIA_URL."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="images")
    file = models.ImageField(_("image"), upload_to="articles/")
    content_type = models.CharField(max_length=50)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("image")
        verbose_name_plural = _("images")

    def __str__(self):
        return self.file.name

    def get_absolute_url(self):
        return reverse("help:image", args=[self.pk])


class ArticleVote(models.Model):
    """'Was this helpful?': one vote per visitor and article (a hashed visitor key)."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="votes")
    visitor = models.CharField(max_length=64)
    helpful = models.BooleanField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("vote")
        verbose_name_plural = _("votes")
        constraints = [
            models.UniqueConstraint(fields=["article", "visitor"], name="one_vote_per_visitor")
        ]

    def __str__(self):
        return f"{self.article_id}: {self.helpful}"


class ArticleSearch(models.Model):
    """A version's search document (tickets.search tokens); indexes in migration 0004."""

    version = models.OneToOneField(
        ArticleVersion, on_delete=models.CASCADE, primary_key=True, related_name="search_doc"
    )
    document = models.TextField(blank=True)

    class Meta:
        verbose_name = _("search document")
        verbose_name_plural = _("search documents")

    def __str__(self):
        return str(self.version_id)
