"""Full-text search over tickets: one document per ticket, words kept in dictionary form.

What a ticket's document holds: its number, subject, every message body (customer, agent,
notes), the requester's name, addresses and phone digits, the organisation, and the names
of the attached files. Each word is stored folded (lower case, no accents) in its
dictionary form in the language of the text it came from (``people.language.lemma``:
"hasła" → "haslo", "faturas" → "fatura"), one token per word, so phrases keep their order.
PostgreSQL has no Polish dictionary, hence the work in Python.

A query word matches any of its forms: as written, and its dictionary form in each of our
languages (the query's language is unknown). Words are ANDed; "words in quotes" must follow
each other. Two engines read the same documents with the same behaviour:

- PostgreSQL: a stored generated column ``vector`` (``to_tsvector('simple', document)``)
  with a GIN index; ``to_tsquery`` with ``|`` between a word's forms and ``<->`` inside a
  phrase; ``ts_rank_cd`` orders. Phrases and ranking read the stored vector, never re-parse.
- SQLite: an FTS5 table kept by triggers in step with the documents; ``bm25`` orders.

A search is bounded whatever the words (``find``): the newest ``SEARCH_CANDIDATES``
matches among the tickets the user may see with their filters, counted exactly below that
and "2,000+" above; a phrase is looked for in the newest ``SEARCH_PHRASE_SCAN`` tickets
holding its words. Then only those are ranked.

Documents are rebuilt after every change the ticket events announce (``index_tickets``,
queued on commit; plain values read for the whole list, one upsert, the thread's language
kept with the document and told again only when its opening changes) and a periodic
catch-up indexes any ticket whose ``updated_at`` is newer than its document, so a lost task
costs minutes, never a missing ticket.
"""

import functools
import html
import itertools
import re
import shlex
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, FloatField, OuterRef, QuerySet, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe

from people.language import detect_language, lemma
from people.models import Contact, ContactEmail, ContactPhone, Organization
from people.text import fold
from tickets.models import Attachment, Message, Ticket, TicketSearch

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)
# Enough for a long thread; PostgreSQL keeps positions up to 16,383 anyway.
MAX_TOKENS = 20_000
# Forms of a phrase tried on SQLite (each word's forms multiply).
MAX_PHRASE_FORMS = 27
SNIPPET_CHARS = 90


def words(text: str) -> list[str]:
    return _WORD.findall(text or "")


_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def _form(word: str, language: str) -> str:
    if language and word.isalpha():
        form = _NOT_WORD.sub("", fold(lemma(word, language)))
        if form:
            return form
    return fold(word)


_token = functools.lru_cache(maxsize=200_000)(_form)

# Each language's words as written → their token: ``tokens`` reads a mail's words with one
# dict look-up each (a cached call per word cost more than the rest of the indexing).
# Emptied when it grows past the limit, so a process never holds more than that.
_FORMS: dict[str, dict[str, str]] = {}
FORMS_LIMIT = 200_000


def tokens(text: str, language: str = "") -> list[str]:
    """The text's words in dictionary form, folded, in order."""
    if not language:
        language = detect_language(text, default="")
    forms = _FORMS.get(language)
    if forms is None or len(forms) > FORMS_LIMIT:
        forms = _FORMS[language] = {}
    found = []
    for word in _WORD.findall(text or ""):
        form = forms.get(word)
        if form is None:
            form = forms[word] = _form(word, language)
        found.append(form)
    return found


def forms_of(word: str) -> tuple[str, ...]:
    """What a query word may have been stored as: as written, and lemmatised per language."""
    found = [fold(word)]
    if word.isalpha():
        found += [_token(word, language) for language in _LANGUAGES]
    return tuple(dict.fromkeys(form for form in found if form))


# --- documents -------------------------------------------------------------------------------


def _names(text: str) -> list[str]:
    """Names of people, companies and files: folded, never lemmatised ("Dores" stays)."""
    return [fold(word) for word in words(text)]


@dataclass
class _Requester:
    name: str
    organization: str
    addresses: list[str]
    phones: list[str]


def _opening(subject: str, bodies: Sequence[str]) -> str:
    """What a thread's language is told from: the subject and the first message."""
    return f"{subject}\n{bodies[0][:2_000] if bodies else ''}"


def _source_key(text: str) -> int:
    """A fingerprint of the text a language was told from: told again only when it changes."""
    return zlib.crc32(text.encode("utf-8", "surrogatepass"))


def _document(
    number: str,
    subject: str,
    language: str,
    requester: _Requester | None,
    bodies: Sequence[str],
    files: Sequence[str],
) -> str:
    """The words of one ticket, in order: number, subject, requester, messages, file names.

    ``language``: the thread's, for every message (see ``_thread_language``).
    """
    parts: list[str] = [*words(number), *tokens(subject, language)]
    if requester is not None:
        parts += _names(requester.name)
        for address in requester.addresses:
            parts += words(fold(address))
        parts += requester.phones
        if requester.organization:
            parts += _names(requester.organization)
    for body in bodies:
        parts += tokens(body[:50_000], language)
        if len(parts) > MAX_TOKENS:
            break
    for name in files:
        parts += _names(name)
    return " ".join(parts[:MAX_TOKENS])


def _thread_language(opening: str, known: tuple[str, int | None] | None) -> tuple[str, int]:
    """One language for the thread, told from its subject and first message (a short subject
    alone is too little to tell, and identifying each message costs more than the rest);
    ``known``: the language the document was built in and the fingerprint of its opening,
    reused while the opening is the same (the identifier is a third of a document's cost)."""
    key = _source_key(opening)
    if known is not None and known[1] == key:
        return known[0], key
    return detect_language(opening, default=""), key


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _in(values) -> str:
    return ", ".join(["%s"] * len(values))


def _read(sql: str, params: Sequence[Any]) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _tickets(ids: list[int]) -> list[tuple]:
    """Per ticket: id, number, subject, requester id, name and organisation, and the stored
    document's language and fingerprint (None without one). One statement."""
    return _read(
        f"SELECT t.id, t.number, t.subject, t.requester_id, c.name, o.name,"  # noqa: S608
        f" s.language, s.language_key, s.ticket_id"
        f" FROM {_table(Ticket)} t"
        f" LEFT JOIN {_table(Contact)} c ON c.id = t.requester_id"
        f" LEFT JOIN {_table(Organization)} o ON o.id = c.organization_id"
        f" LEFT JOIN {_table(TicketSearch)} s ON s.ticket_id = t.id"
        f" WHERE t.id IN ({_in(ids)}) ORDER BY t.id",
        ids,
    )


def _texts(ids: list[int]) -> tuple[dict[int, list[str]], dict[int, list[str]]]:
    """Each ticket's message bodies (in order) and file names: one statement."""
    rows = _read(
        f"SELECT ticket_id, 0, created_at, id, body_text FROM {_table(Message)}"  # noqa: S608
        f" WHERE ticket_id IN ({_in(ids)})"
        f" UNION ALL SELECT ticket_id, 1, NULL, id, filename FROM {_table(Attachment)}"
        f" WHERE ticket_id IN ({_in(ids)}) ORDER BY 1, 2, 3, 4",
        [*ids, *ids],
    )
    bodies: dict[int, list[str]] = {}
    files: dict[int, list[str]] = {}
    for ticket_id, kind, _at, _pk, text in rows:
        (files if kind else bodies).setdefault(ticket_id, []).append(text)
    return bodies, files


def _requesters(requesters: dict[int, tuple[str, str]]) -> dict[int, _Requester]:
    """Contact id → name, organisation, addresses (primary first) and phone digits; the
    addresses and phones in one statement."""
    if not requesters:
        return {}
    found = {
        pk: _Requester(name, organization or "", [], [])
        for pk, (name, organization) in requesters.items()
    }
    ids = list(found)
    rows = _read(
        f"SELECT contact_id, 0, CASE WHEN is_primary THEN 0 ELSE 1 END, address, id, address"  # noqa: S608
        f" FROM {_table(ContactEmail)} WHERE contact_id IN ({_in(ids)})"
        f" UNION ALL SELECT contact_id, 1, 0, '', id, digits FROM {_table(ContactPhone)}"
        f" WHERE contact_id IN ({_in(ids)}) AND digits <> '' ORDER BY 1, 2, 3, 4, 5",
        [*ids, *ids],
    )
    for contact_id, kind, _primary, _address, _pk, value in rows:
        (found[contact_id].phones if kind else found[contact_id].addresses).append(value)
    return found


def index_tickets(ticket_ids: Iterable[int], *, languages: Mapping[int, str] | None = None) -> int:
    """(Re)build the documents of these tickets; returns how many were written.

    Three reads and one upsert for the whole list, whatever its size; plain rows, no model
    instances or querysets (building them cost more than the words). Safe to run twice.
    ``languages``: the language already told from a new ticket's opening (by the intake),
    not told again.
    """
    languages = languages or {}
    ids = sorted(set(ticket_ids))
    if not ids:
        return 0
    tickets = _tickets(ids)
    bodies, files = _texts(ids)
    requesters = _requesters({row[3]: (row[4], row[5]) for row in tickets if row[3] is not None})
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = []
    for pk, number, subject, requester_id, _name, _org, language, key, indexed in tickets:
        thread = bodies.get(pk, [])
        opening = _opening(subject, thread)
        told = (language, key) if indexed is not None else None
        if told is None and pk in languages:  # the intake told it from this same opening
            told = (languages[pk], _source_key(opening))
        language, key = _thread_language(opening, told)
        document = _document(
            number,
            subject,
            language,
            requesters.get(requester_id) if requester_id else None,
            thread,
            files.get(pk, ()),
        )
        rows.append((pk, document, language, key, now))
    _upsert(rows)
    return len(rows)


def _upsert(rows: list[tuple]) -> None:
    """One INSERT ... ON CONFLICT DO UPDATE per 500 documents (PostgreSQL and SQLite alike):
    the PostgreSQL vector is a generated column; SQLite's FTS5 table follows by its insert and
    update triggers."""
    table = TicketSearch._meta.db_table
    columns = "ticket_id, document, language, language_key, indexed_at"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            chunk = rows[start : start + 500]
            values = ", ".join(["(%s, %s, %s, %s, %s)"] * len(chunk))
            cursor.execute(
                f"INSERT INTO {table} ({columns}) VALUES {values}"  # noqa: S608 (placeholders only)
                " ON CONFLICT (ticket_id) DO UPDATE SET document = excluded.document,"
                " language = excluded.language, language_key = excluded.language_key,"
                " indexed_at = excluded.indexed_at",
                [value for row in chunk for value in row],
            )


def stale_ticket_ids(limit: int = 1000) -> list[int]:
    """Tickets whose document is missing or older than their last change, oldest first."""
    missing = Ticket.objects.filter(search_doc__isnull=True)
    behind = Ticket.objects.filter(search_doc__indexed_at__lt=F("updated_at"))
    ids = list(missing.order_by("pk").values_list("pk", flat=True)[:limit])
    if len(ids) < limit:
        ids += list(behind.order_by("pk").values_list("pk", flat=True)[: limit - len(ids)])
    return ids


def catch_up(batch: int = 1000) -> int:
    """Index every stale ticket, a batch at a time; returns how many were indexed."""
    done = 0
    while ids := stale_ticket_ids(batch):
        done += index_tickets(ids)
        if len(ids) < batch:
            break
    return done


# --- queries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """What the user typed: loose words and quoted phrases, each word with its forms."""

    groups: tuple[tuple[tuple[str, ...], ...], ...]  # phrase → words → forms

    @classmethod
    def parse(cls, text: str) -> "Query":
        try:
            pieces = shlex.split(text)
        except ValueError:  # an unmatched quote: read it as loose words
            pieces = text.replace('"', " ").split()
        groups = []
        for piece in pieces:
            phrase = tuple(forms_of(word) for word in words(piece))
            phrase = tuple(forms for forms in phrase if forms)
            if phrase:
                # An unquoted piece with punctuation inside ("ana@acme.com") is a phrase too.
                groups.append(phrase)
        return cls(tuple(groups))

    def __bool__(self) -> bool:
        return bool(self.groups)

    def all_forms(self) -> set[str]:
        return {form for phrase in self.groups for forms in phrase for form in forms}

    def tsquery(self) -> str:
        def word(forms):
            return "(" + " | ".join(f"'{form}'" for form in forms) + ")"

        return " & ".join(
            "(" + " <-> ".join(word(f) for f in phrase) + ")" for phrase in self.groups
        )

    def has_phrase(self) -> bool:
        return any(len(phrase) > 1 for phrase in self.groups)

    def words_tsquery(self) -> str:
        """Every word of the query, phrases or not, ANDed (what the GIN index answers)."""
        return " & ".join(
            "(" + " | ".join(f"'{form}'" for form in forms) + ")"
            for phrase in self.groups
            for forms in phrase
        )

    def words_fts5(self) -> str:
        return " AND ".join(
            "(" + " OR ".join(f'"{form}"' for form in forms) + ")"
            for phrase in self.groups
            for forms in phrase
        )

    def fts5(self) -> str:
        def phrase_expr(phrase):
            combos = list(itertools.islice(itertools.product(*phrase), MAX_PHRASE_FORMS))
            return "(" + " OR ".join('"' + " ".join(combo) + '"' for combo in combos) + ")"

        return " AND ".join(phrase_expr(phrase) for phrase in self.groups)


def _postgresql() -> bool:
    return connection.vendor == "postgresql"


def _document_matches_sql(query: Query, *, phrases: bool = True) -> tuple[str, list]:
    """The ids of the tickets whose document matches, as a subquery (for ``pk__in``).

    ``phrases=False``: every word, wherever it stands (quoted words need not meet), the cheap
    test the GIN index answers without reading the documents.
    """
    if _postgresql():
        text = query.tsquery() if phrases else query.words_tsquery()
        return (
            "SELECT ticket_id FROM tickets_ticketsearch WHERE vector @@ to_tsquery('simple', %s)",
            [text],
        )
    text = query.fts5() if phrases else query.words_fts5()
    return (
        "SELECT rowid FROM tickets_ticketsearch_fts WHERE tickets_ticketsearch_fts MATCH %s",
        [text],
    )


def _phrase_check_sql(query: Query) -> tuple[str, list]:
    """A condition on a candidate ``c.pk``: its document holds every phrase in order.

    A scalar subquery per candidate: the database cannot turn it into a join that would
    test every document holding the words (all of them, for common words).
    """
    if _postgresql():
        return (
            "(SELECT vector @@ to_tsquery('simple', %s) FROM tickets_ticketsearch"
            " WHERE ticket_id = c.pk)",
            [query.tsquery()],
        )
    return (
        "EXISTS (SELECT 1 FROM tickets_ticketsearch_fts WHERE tickets_ticketsearch_fts MATCH %s"
        " AND rowid = c.pk)",
        [query.fts5()],
    )


@dataclass(frozen=True)
class Found:
    """The tickets a search found, newest first: at most ``SEARCH_CANDIDATES`` of them.

    ``more``: there are more matches than that (the newest are kept, and a count says
    "2,000+"); for a phrase, the phrase was checked in the newest ``SEARCH_PHRASE_SCAN``
    tickets holding its words, and there were more such tickets.
    """

    ids: tuple[int, ...]
    more: bool
    phrase_cut: bool = False  # the phrase was looked for in the newest tickets only

    def __len__(self) -> int:
        return len(self.ids)

    def exact(self) -> str:
        return number_format(len(self.ids), force_grouping=True)

    def label(self) -> str:
        """The count as shown: exact below the cap, "2,000+" above."""
        return f"{self.exact()}+" if self.more else self.exact()


def _newest(queryset: QuerySet, limit: int) -> tuple[str, list[Any]]:
    sql, params = queryset.order_by("-pk").values_list("pk")[:limit].query.sql_with_params()
    return sql, list(params)


def _candidates(queryset: QuerySet, number: str, requesters: Sequence[int], query: Query) -> Found:
    """Every ticket of ``queryset`` the text finds, newest first: one query.

    A UNION ALL of capped reads, each within ``queryset`` (the user's visible tickets and
    their filters, so the cap and the count never include a ticket they cannot see): the
    number (the unique index), the requester's tickets, and the documents. For a common
    word the database walks the tickets newest first, tests each one's document and stops
    at the cap; a rare word is read from the GIN index. A phrase first takes the newest
    ``SEARCH_PHRASE_SCAN`` tickets holding all its words, then checks the phrase on those
    only: two common words that never meet would otherwise test every document.
    """
    cap = settings.SEARCH_CANDIDATES
    base = queryset.order_by()
    parts: list[str] = []
    params: list[Any] = []
    head, head_params = "", cast(list[Any], [])

    def part(tag: int, sql: str, more: Sequence[object]) -> None:
        parts.append(f"SELECT c.pk, {tag} AS part FROM ({sql}) AS c")  # noqa: S608 (compiled)
        params.extend(more)

    if number:
        part(0, *_newest(base.filter(number=number), 1))
    if requesters:
        part(1, *_newest(base.filter(requester_id__in=requesters), cap + 1))
    phrase = query.has_phrase()
    if query:
        matches = RawSQL(*_document_matches_sql(query, phrases=not phrase))  # noqa: S611
        if not phrase:
            part(2, *_newest(base.filter(pk__in=matches), cap + 1))
        else:
            sql, head_params = _newest(base.filter(pk__in=matches), settings.SEARCH_PHRASE_SCAN)
            head = f"WITH scanned AS ({sql}) "
            check, check_params = _phrase_check_sql(query)
            # How many were scanned rides along: it tells whether the scan was cut short.
            parts.append(f"SELECT c.pk, 2 AS part FROM scanned AS c WHERE {check}")  # noqa: S608
            parts.append("SELECT count(*), 3 AS part FROM scanned")
            params.extend(check_params)
    if not parts:
        return Found((), False)
    with transaction.atomic(), connection.cursor() as cursor:
        if _postgresql():
            # Capped reads want no parallel workers: starting them costs more than the read
            # (tens of ms on a busy machine), and the cap stops the walk early anyway. Nor a
            # merge or hash join, which read every ticket the filters keep (85,000 waiting
            # ones, say) or test the document of every ticket walked: a nested loop either
            # walks the tickets newest first and reads the documents of those the filters
            # keep (a common word), or probes the tickets of the few the GIN index found.
            cursor.execute(
                "SET LOCAL max_parallel_workers_per_gather = 0;"
                " SET LOCAL enable_mergejoin = off; SET LOCAL enable_hashjoin = off"
            )
        cursor.execute(head + " UNION ALL ".join(parts), [*head_params, *params])
        rows = cursor.fetchall()
    by_part: dict[int, list[int]] = {}
    for pk, tag in rows:
        by_part.setdefault(tag, []).append(pk)
    more = any(len(by_part.get(tag, ())) > cap for tag in (1, 2))
    cut = phrase and by_part.get(3, [0])[0] >= settings.SEARCH_PHRASE_SCAN
    ids = sorted({pk for tag in (0, 1, 2) for pk in by_part.get(tag, ())}, reverse=True)
    return Found(tuple(ids[:cap]), more or cut or len(ids) > cap, phrase_cut=cut)


def _rank(query: Query):
    """How well each ticket's document matches: higher is better (0 without a document)."""
    if _postgresql():
        documents = TicketSearch.objects.filter(ticket_id=OuterRef("pk")).annotate(
            score=RawSQL(
                "ts_rank_cd(vector, to_tsquery('simple', %s))",
                [query.tsquery()],
                output_field=FloatField(),
            )
        )
        return Coalesce(
            Subquery(documents.values("score")[:1], output_field=FloatField()), Value(0.0)
        )
    return Coalesce(
        RawSQL(
            "(SELECT -bm25(tickets_ticketsearch_fts) FROM tickets_ticketsearch_fts"
            " WHERE tickets_ticketsearch_fts MATCH %s"
            " AND tickets_ticketsearch_fts.rowid = tickets_ticket.id)",
            [query.fts5()],
            output_field=FloatField(),
        ),
        Value(0.0),
    )


def find(queryset: QuerySet, text: str) -> Found:
    """The tickets of ``queryset`` that ``text`` finds (see ``search``), newest first."""
    text = text.strip()
    number = text.lstrip("[#").rstrip("]")
    requesters: list[int] = []
    if "@" in text and " " not in text:
        requesters = list(
            ContactEmail.objects.filter(address=text.lower()).values_list("contact_id", flat=True)
        )
    return _candidates(queryset, number, requesters, Query.parse(text))


def _by_ids(queryset: QuerySet, ids: Sequence[int]) -> QuerySet:
    """The rows of ``queryset`` with these ids, which came from it: by primary key alone.

    The queryset's own conditions hold for every id already; repeated, they let the
    database pick their index (a pool's, say) and test each of its rows against the list.
    Its ordering stays; a queryset with annotations or joins of its own keeps them all.
    """
    query = queryset.query
    joined = any(n for alias, n in query.alias_refcount.items() if alias != query.base_table)
    if query.annotations or query.extra or query.distinct or joined:
        return queryset.filter(pk__in=ids)
    rows = queryset.model._default_manager.filter(pk__in=ids)
    return rows.order_by(*query.order_by) if query.order_by else rows


def search(queryset: QuerySet, text: str, *, rank: bool = True, found: Found | None = None):
    """The tickets of ``queryset`` that ``text`` finds, annotated ``search_rank``.

    A ticket number (with or without its prefix, ``#`` or brackets), a requester's exact
    address, or words and "phrases" of its document. Scoping is the caller's: pass the
    user's visible tickets with their filters, so the cap and counts exclude the rest.
    At most ``SEARCH_CANDIDATES`` tickets, the newest matches (``find``: which, and whether
    there were more); ``found``: that answer, when the caller has it already.
    """
    if found is None:
        found = find(queryset, text)
    result = _by_ids(queryset, found.ids)
    query = Query.parse(text)
    if rank and query:
        result = result.annotate(search_rank=_rank(query))
    return result


# --- the matching passage --------------------------------------------------------------------


def _wanted(word: str, wanted: set[str], seen: dict[str, bool]) -> bool:
    """Whether ``word`` is one of the forms looked for; ``seen``: the page's answers so far
    (a page's messages repeat their words: each is lemmatised once per page, not per use)."""
    found = seen.get(word)
    if found is None:
        found = _token(word, "") in wanted or any(
            fold(lemma(word, language)) in wanted for language in _LANGUAGES
        )
        seen[word] = found
    return found


def _snippet(text: str, wanted: set[str], seen: dict[str, bool] | None = None) -> SafeString | None:
    seen = {} if seen is None else seen
    spans = [m for m in _WORD.finditer(text) if _wanted(m.group(), wanted, seen)]
    if not spans:
        return None
    first = spans[0]
    start = max(0, first.start() - SNIPPET_CHARS)
    end = min(len(text), first.end() + SNIPPET_CHARS)
    pieces, cursor = [], start
    for match in spans:
        if match.start() < start or match.end() > end:
            continue
        pieces.append(html.escape(text[cursor : match.start()]))
        pieces.append(f"<mark>{html.escape(match.group())}</mark>")
        cursor = match.end()
    pieces.append(html.escape(text[cursor:end]))
    prefix = "…" if start else ""
    suffix = "…" if end < len(text) else ""
    return mark_safe(prefix + " ".join("".join(pieces).split()) + suffix)  # noqa: S308 (escaped)


def passages(tickets: Sequence[Ticket], text: str) -> dict[int, SafeString]:
    """For each ticket shown, the first passage of a message that matches, highlighted.

    One query for the page (agents read every message of their tickets, notes included),
    newest first per ticket; the subject's passage when the subject matches.
    """
    query = Query.parse(text)
    if not query or not tickets:
        return {}
    wanted = query.all_forms()
    seen: dict[str, bool] = {}
    found: dict[int, SafeString] = {}
    for ticket in tickets:
        snippet = _snippet(ticket.subject, wanted, seen)
        if snippet is not None:
            found[ticket.pk] = snippet
    rest = [ticket.pk for ticket in tickets if ticket.pk not in found]
    messages = Message.objects.filter(ticket_id__in=rest).order_by("ticket_id", "-created_at")
    for ticket_id, body in messages.values_list("ticket_id", "body_text").iterator():
        if ticket_id in found:
            continue
        snippet = _snippet(body[:20_000], wanted, seen)
        if snippet is not None:
            found[ticket_id] = snippet
    return found
