"""Similar tickets, and the canned responses and articles that fit a ticket: text similarity
over the search documents (tickets.search tokens), no outside service.

The ticket's text (subject and first customer messages) is tokenised like every document;
its most distinctive words are the ones fewest other documents hold (each count capped at
``DF_CAP`` rows, all in one query, served by the GIN index / FTS5); those words, ORed, rank
the resolved and closed tickets the agent may see (``ts_rank_cd`` / ``bm25``) and the
published articles. Common words do not rank tickets, and at most RANKED matching
documents are ranked, so the cost does not grow with the helpdesk. Canned
responses are few per agent: their words are compared in Python. A fixed number of queries,
on a fragment the ticket page loads lazily (the page's own count does not change).
"""

from collections import Counter
from dataclasses import dataclass

from django.db import connection
from django.db.models import FloatField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from knowledge import search
from knowledge.models import ArticleVersion
from tickets.models import CannedResponse, Message, Ticket
from tickets.search import tokens
from tickets.states import Status

CANDIDATE_WORDS = 20
QUERY_WORDS = 8
DF_CAP = 500  # SQLite: a word in more documents is common
DF_SAMPLE = 500  # PostgreSQL: documents sampled; a word in 2% of them is common
RANKED = 2_000  # documents ranked at most
MIN_WORD = 4
SIMILAR_TICKETS = 5
ARTICLES = 3
CANNED = 3
MAX_CANNED = 200
TEXT_CHARS = 5_000


@dataclass
class Suggestions:
    words: list[str]
    tickets: list[Ticket]
    articles: list[ArticleVersion]
    canned: list[CannedResponse]


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


def ticket_words(ticket: Ticket) -> list[str]:
    """The ticket's words in stored (document) form, most frequent first: one query."""
    bodies = (
        Message.objects.filter(ticket=ticket, author_contact__isnull=False)
        .order_by("created_at", "pk")
        .values_list("body_text", flat=True)[:3]
    )
    text = "\n".join([ticket.subject, *(body[:TEXT_CHARS] for body in bodies)])
    counted = Counter(word for word in tokens(text) if len(word) >= MIN_WORD and not word.isdigit())
    return [word for word, _count in counted.most_common(CANDIDATE_WORDS)]


def document_frequencies(words: list[str]) -> dict[str, int]:
    """How many documents hold each word, on a bounded budget: one query.

    PostgreSQL: counted in the newest DF_SAMPLE documents (each parsed once), so the cost
    does not grow with the helpdesk; a GIN count per word would read every match of a
    common word. SQLite: FTS5 counts per word, each stopped at DF_CAP rows."""
    if not words:
        return {}
    if _postgresql():
        counts = ", ".join(
            "count(*) FILTER (WHERE v @@ to_tsquery('simple', %s))" for _word in words
        )
        sql = (
            "SELECT " + counts + " FROM (SELECT vector AS v"  # noqa: S608 (placeholders only)
            " FROM tickets_ticketsearch ORDER BY ticket_id DESC LIMIT %s) sample"
        )
        params: list = [f"'{word}'" for word in words] + [DF_SAMPLE]
    else:
        one = (
            "(SELECT count(*) FROM (SELECT 1 FROM tickets_ticketsearch_fts WHERE"
            " tickets_ticketsearch_fts MATCH %s LIMIT {cap}))"
        )
        sql = "SELECT " + ", ".join(one.format(cap=DF_CAP) for _word in words)
        params = [f'"{word}"' for word in words]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchone()
    return dict(zip(words, found, strict=True))


def _common() -> int:
    return DF_SAMPLE // 50 if _postgresql() else DF_CAP


def distinctive(words: list[str]) -> tuple[list[str], list[str]]:
    """The words to ask for, most distinctive first (those fewest other documents hold),
    and among them the ones rare enough to rank tickets by (not common)."""
    frequencies = document_frequencies(words)
    common = _common()
    low = 0 if _postgresql() else 1  # a sample may miss a rare word

    def order(word):
        count = frequencies.get(word, 0)
        # Shared with a few: best; with very many (the cap): weak; with none but us: useless
        # for tickets, yet it still says which articles and responses fit.
        kind = 0 if 2 <= count < common else (1 if count >= common else 2)
        return (kind, count, words.index(word))

    ordered = sorted(words, key=order)[:QUERY_WORDS]
    rare = [word for word in ordered if low <= frequencies.get(word, 0) < common]
    return ordered, rare


def _ticket_rank(tsquery: str, fts5: str):
    if _postgresql():
        return Coalesce(
            RawSQL(
                "(SELECT ts_rank_cd(vector, to_tsquery('simple', %s))"
                " FROM tickets_ticketsearch WHERE ticket_id = tickets_ticket.id)",
                [tsquery],
                output_field=FloatField(),
            ),
            Value(0.0),
        )
    return Coalesce(
        RawSQL(
            "(SELECT -bm25(tickets_ticketsearch_fts) FROM tickets_ticketsearch_fts"
            " WHERE tickets_ticketsearch_fts MATCH %s"
            " AND tickets_ticketsearch_fts.rowid = tickets_ticket.id)",
            [fts5],
            output_field=FloatField(),
        ),
        Value(0.0),
    )


def _ticket_matches(tsquery: str, fts5: str) -> RawSQL:
    if _postgresql():
        return RawSQL(
            "SELECT ticket_id FROM tickets_ticketsearch"
            " WHERE vector @@ to_tsquery('simple', %s) LIMIT %s",
            [tsquery, RANKED],
        )
    return RawSQL(
        "SELECT rowid FROM tickets_ticketsearch_fts WHERE tickets_ticketsearch_fts MATCH %s"
        " LIMIT %s",
        [fts5, RANKED],
    )


def similar_tickets(ticket: Ticket, user, words: list[str]) -> list[Ticket]:
    """Resolved and closed tickets of ``user``'s pools closest to ``words``: one query.

    Callers pass only words that are not common (``distinctive``: a word most tickets hold
    says nothing about which are alike), and at most RANKED matching documents are ranked."""
    if not words:
        return []
    tsquery, fts5 = search.any_of(words)
    return list(
        Ticket.objects.visible_to(user)
        .filter(status__in=[Status.RESOLVED, Status.CLOSED])
        .exclude(pk=ticket.pk)
        .filter(pk__in=_ticket_matches(tsquery, fts5))
        .annotate(similarity=_ticket_rank(tsquery, fts5))
        .select_related("pool")
        .order_by("-similarity", "-pk")[:SIMILAR_TICKETS]
    )


def fitting_articles(words: list[str], language: str) -> list[ArticleVersion]:
    """Published articles (public and internal: the reader is an agent): one query."""
    if not words:
        return []
    versions = search.in_language(ArticleVersion.objects.for_agents(), language).select_related(
        "article"
    )
    found = search.ranked(versions, *search.any_of(words))
    return search.one_per_article(found[: search.CANDIDATES], language)[:ARTICLES]


def fitting_canned(ticket: Ticket, user, words: list[str]) -> list[CannedResponse]:
    """The agent's canned responses sharing the most of ``words``: one query."""
    wanted = set(words)
    if not wanted:
        return []
    scored = []
    for canned in CannedResponse.objects.usable_by(user, ticket.pool_id).order_by("title")[
        :MAX_CANNED
    ]:
        overlap = len(wanted & set(tokens(f"{canned.title}\n{canned.body}")))
        if overlap:
            scored.append((-overlap, canned.title, canned))
    scored.sort(key=lambda row: row[:2])
    return [canned for _score, _title, canned in scored[:CANNED]]


def suggestions_for(ticket: Ticket, user, language: str) -> Suggestions:
    words, rare = distinctive(ticket_words(ticket))
    return Suggestions(
        words=words,
        tickets=similar_tickets(ticket, user, rare),
        articles=fitting_articles(words, language),
        canned=fitting_canned(ticket, user, words),
    )
