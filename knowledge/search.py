"""Article search with the tickets' engine: the same tokens, query parser and index pattern.

One document per article version (``ArticleSearch``): its title and plain text through
``tickets.search.tokens`` in the version's language (dictionary forms, folded), so a query
is read by ``tickets.search.Query`` exactly like a ticket search ("hasła" finds "hasło",
"faturas" finds "fatura"). PostgreSQL reads a GIN index on ``to_tsvector('simple',
document)`` ranked by ``ts_rank_cd``; SQLite an FTS5 table kept by triggers, ranked by
``bm25`` (migration 0004). Documents are written by ``knowledge.services`` in the same
transaction as the text, so the index is never behind.
"""

from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import F, FloatField, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from knowledge.models import ArticleSearch, ArticleVersion
from tickets.search import MAX_TOKENS, Query, tokens

CANDIDATES = 100


def document(title: str, text: str, language: str) -> str:
    return " ".join([*tokens(title, language), *tokens(text, language)][:MAX_TOKENS])


def index_versions(versions: Iterable[ArticleVersion]) -> None:
    for version in versions:
        ArticleSearch.objects.update_or_create(
            version_id=version.pk,
            defaults={"document": document(version.title, version.body_text, version.language)},
        )


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


def any_of(words: Sequence[str]) -> tuple[str, str]:
    """An OR query over document tokens (already in stored form): (tsquery, fts5)."""
    return (
        " | ".join(f"'{word}'" for word in words),
        " OR ".join(f'"{word}"' for word in words),
    )


def _matches(tsquery: str, fts5: str) -> RawSQL:
    if _postgresql():
        return RawSQL(
            "SELECT version_id FROM knowledge_articlesearch"
            " WHERE to_tsvector('simple', document) @@ to_tsquery('simple', %s)",
            [tsquery],
        )
    return RawSQL(
        "SELECT rowid FROM knowledge_articlesearch_fts WHERE knowledge_articlesearch_fts MATCH %s",
        [fts5],
    )


def _rank(tsquery: str, fts5: str):
    if _postgresql():
        return Coalesce(
            RawSQL(
                "(SELECT ts_rank_cd(to_tsvector('simple', document), to_tsquery('simple', %s))"
                " FROM knowledge_articlesearch"
                " WHERE version_id = knowledge_articleversion.id)",
                [tsquery],
                output_field=FloatField(),
            ),
            Value(0.0),
        )
    return Coalesce(
        RawSQL(
            "(SELECT -bm25(knowledge_articlesearch_fts) FROM knowledge_articlesearch_fts"
            " WHERE knowledge_articlesearch_fts MATCH %s"
            " AND knowledge_articlesearch_fts.rowid = knowledge_articleversion.id)",
            [fts5],
            output_field=FloatField(),
        ),
        Value(0.0),
    )


def ranked(versions: QuerySet, tsquery: str, fts5: str) -> QuerySet:
    """The versions whose document matches, best first (annotated ``search_rank``)."""
    return (
        versions.filter(pk__in=_matches(tsquery, fts5))
        .annotate(search_rank=_rank(tsquery, fts5))
        .order_by("-search_rank", "pk")
    )


def search(versions: QuerySet, text: str) -> QuerySet:
    """The versions of ``versions`` that ``text`` finds (every word, "phrases"), ranked.

    Scoping is the caller's: pass what the reader may see (``ArticleVersion.objects
    .readable()`` for customers and visitors).
    """
    query = Query.parse(text)
    if not query:
        return versions.none()
    return ranked(versions, query.tsquery(), query.fts5())


def one_per_article(versions: Iterable[ArticleVersion], language: str) -> list[ArticleVersion]:
    """Each article once, in the order found: its version in ``language`` when among them,
    else its default language's, else the first found."""
    by_article: dict[int, list[ArticleVersion]] = {}
    for version in versions:
        by_article.setdefault(version.article_id, []).append(version)
    chosen = []
    for found in by_article.values():
        default = found[0].article.default_language
        chosen.append(
            next((v for v in found if v.language == language), None)
            or next((v for v in found if v.language == default), None)
            or found[0]
        )
    return chosen


def in_language(versions: QuerySet, language: str) -> QuerySet:
    """The versions a reader of ``language`` may be shown: theirs, or the default one."""
    return versions.filter(Q(language=language) | Q(language=F("article__default_language")))


def find(versions: QuerySet, text: str, language: str, limit: int) -> list[ArticleVersion]:
    """Search and keep one version per article: one query."""
    found = search(versions.select_related("article__category", "article__pool"), text)
    return one_per_article(found[:CANDIDATES], language)[:limit]


MAX_ANY_WORDS = 12
MIN_WORD = 3


def any_words(text: str) -> tuple[str, str] | None:
    """What a customer typed, as an OR of its words (each with its forms): for suggestions,
    where a sentence rarely has every word of an article."""
    query = Query.parse(text.replace('"', " "))
    forms = [f for phrase in query.groups for f in phrase if len(f[0]) >= MIN_WORD]
    forms = forms[:MAX_ANY_WORDS]
    if not forms:
        return None
    flat = list(dict.fromkeys(form for f in forms for form in f))
    return any_of(flat)


def find_any(versions: QuerySet, text: str, language: str, limit: int) -> list[ArticleVersion]:
    """The versions matching any word of ``text``, best first, one per article: one query."""
    both = any_words(text)
    if both is None:
        return []
    found = ranked(versions.select_related("article__category", "article__pool"), *both)
    return one_per_article(found[:CANDIDATES], language)[:limit]
