"""Help articles: what customers read before opening a ticket."""

from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.models import Pool

MAX_SEARCH_WORDS = 8


class ArticleQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published=True)

    def search(self, query: str):
        """Every word in the title or the text, case-insensitive; works on SQLite and PostgreSQL."""
        words = [word for word in query.split() if len(word) > 1][:MAX_SEARCH_WORDS]
        matches = self
        for word in words:
            matches = matches.filter(Q(title__icontains=word) | Q(body__icontains=word))
        return matches


class Article(models.Model):
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"), help_text=_("Plain text; blank lines separate paragraphs."))
    pool = models.ForeignKey(
        Pool,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="articles",
        verbose_name=_("department"),
        help_text=_("Empty: about everything."),
    )
    published = models.BooleanField(_("published"), default=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        indexes = [models.Index(fields=["published", "title"], name="article_published_idx")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("knowledge:article", args=[self.pk])
