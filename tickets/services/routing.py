"""Classify a new ticket by keywords and hand it to the best present specialist.

Matching rules (the same for topics, products and skills):

- Text and keywords are compared folded (``people.text.fold``): case- and accent-insensitive,
  so "Faturação" matches "faturacao" and "Płatność" matches "platnosc", both ways.
- A keyword matches whole words, never the inside of a word. A keyword word of four or more
  letters also matches a word that starts with it and has at most three more letters, which
  covers Portuguese and Polish endings: "faktur" matches "faktury", "fakturze", "fakturami";
  "fatura" matches "faturas" but not "faturamento" (a different word, five letters on).
  Shorter keywords ("vpn", "nf") match only exactly. Admins write Polish keywords as stems.
- In the mail's language (English, Portuguese or Polish, see ``people.language``), a word
  also matches by its dictionary form: the text's words and the keyword's words are both
  lemmatised, so the keyword "faktura" matches "fakturze" and "fakturę", "hasło" matches
  "hasła", "ramal" matches "ramais". Admins write keywords in their base form. (A Polish
  word typed without its diacritics, "hasla", is not in the dictionary: the rule above
  still applies to it. A text word is only looked up when a keyword begins with the same
  two letters, which leaves out rare forms whose stem changes at once: "psa" for "pies".)
- A phrase matches its words in order, next to each other, each word by the rules above.
- A score is the number of distinct keywords found; a phrase found twice counts once.
- Only the first ``MAX_TEXT_CHARS`` characters are read: keywords sit in the subject and the
  first paragraphs, and a pasted log file must not slow ingestion down.
"""

import functools
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, router
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    IntegerField,
    PositiveIntegerField,
    Q,
    Value,
    When,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from people.language import lemma, supported
from people.models import Absence, Skill
from people.text import fold, keyword_phrases
from tickets import signals
from tickets.models import ActivityLog, PoolMembership, Product, Ticket, Topic
from tickets.services.audit import activity_row, announce, log_activities
from tickets.states import OPEN_STATUSES, Status

Action = ActivityLog.Action

_WORD = re.compile(r"[^\W_]+")
MAX_TEXT_CHARS = 10_000
MIN_STEM = 4
MAX_ENDING = 3
# Lemmas: only for words of three or more letters, and looked up lazily, for the words
# that begin like a keyword (two letters: "ręce" still meets "ręka", "ramais" "ramal").
MIN_LEMMA = 3
LEMMA_PREFIX = 2
# Statuses that count as an agent's current load: work they hold (a new ticket has nobody).
LOAD_STATUSES = [status for status in OPEN_STATUSES if status != Status.NEW]
# How many runners-up the routing log names beside the winner.
LOGGED_RUNNERS_UP = 5


class Words:
    """The folded words of a text, indexed so a keyword costs one dict look-up per word.

    ``language``: the text's language; its words are also indexed by their lemma.
    """

    def __init__(self, text: str, language: str = ""):
        self.language = language if supported(language) else ""
        self._positions: dict[str, list[int]] = defaultdict(list)
        self._tokens: list[str] = []  # the text's word at each position, for explanations
        # Words that may have a lemma, by their first LEMMA_PREFIX letters (folded): a
        # dictionary look-up costs far more than a word, so a word is only lemmatised once
        # a keyword with the same first letters is looked for (see _add_lemmas).
        self._unlemmatised: dict[str, list[tuple[int, str]]] = defaultdict(list)
        text = unicodedata.normalize("NFC", text[:MAX_TEXT_CHARS])
        index = 0
        for raw in _WORD.findall(text):
            parts = _folded(raw)
            for word in parts:
                for stem in _stems(word):
                    self._positions[stem].append(index)
                self._tokens.append(raw)
                index += 1
            if self.language and len(parts) == 1 and len(raw) >= MIN_LEMMA and raw.isalpha():
                self._unlemmatised[parts[0][:LEMMA_PREFIX]].append((index - 1, raw))

    def _add_lemmas(self, form: str) -> None:
        """Index by lemma the words that share ``form``'s first letters ("hasła" for "haslo")."""
        waiting = self._unlemmatised.pop(form[:LEMMA_PREFIX], None)
        for index, raw in waiting or ():
            base = _lemma_key(raw, self.language)
            if base and index not in self._positions.get(base, ()):
                self._positions[base].append(index)

    def _where(self, forms: frozenset[str]) -> set[int]:
        if self._unlemmatised:
            for form in forms:
                self._add_lemmas(form)
        return {i for form in forms for i in self._positions.get(form, ())}

    def _starts(self, parts: tuple[frozenset[str], ...]) -> set[int]:
        """Positions where the keyword's words (each a set of alternatives) begin."""
        if not parts:
            return set()
        starts = self._where(parts[0])
        for offset, forms in enumerate(parts[1:], start=1):
            if not starts:
                break
            following = self._where(forms)
            starts = {start for start in starts if start + offset in following}
        return starts

    def contains(self, keyword: str) -> bool:
        return bool(self._starts(_keyword_forms(keyword, self.language)))

    def matched(self, keywords: list[str]) -> list[str]:
        """The distinct keywords found, in the order they were configured."""
        return [k for k in dict.fromkeys(keywords) if self.contains(k)]

    def matched_in(self, raw_keywords: str) -> list[str]:
        """matched() for a catalog entry's ``keywords`` field (split and lemmatised once)."""
        return [
            keyword
            for keyword, parts in _catalog_keywords(raw_keywords, self.language)
            if self._starts(parts)
        ]

    def evidence(self, keyword: str) -> list[str]:
        """The text's words that matched ``keyword`` ("fakturze"), each once, in text order."""
        parts = _keyword_forms(keyword, self.language)
        found = [
            " ".join(self._tokens[start : start + len(parts)])
            for start in sorted(self._starts(parts))
        ]
        return list(dict.fromkeys(found))


# Mail reuses a small vocabulary, so folding and stemming word by word through a cache is
# several times faster than folding whole messages.
@functools.lru_cache(maxsize=50_000)
def _folded(text: str) -> tuple[str, ...]:
    # Letters and digits make words; everything else separates them, so "e-mail" is the
    # phrase "e mail" on both sides of a comparison.
    return tuple(_WORD.findall(fold(text)))


@functools.lru_cache(maxsize=50_000)
def _stems(word: str) -> tuple[str, ...]:
    """The word and each keyword word it may be matched by (see the module rules)."""
    stems = [word]
    for cut in range(1, MAX_ENDING + 1):
        if len(word) - cut < MIN_STEM:
            break
        stems.append(word[:-cut])
    return tuple(stems)


@functools.lru_cache(maxsize=50_000)
def _lemma_key(word: str, language: str) -> str:
    """The folded lemma of one text word ("Fakturze" → "faktura"), "" when not one word."""
    parts = _folded(lemma(word, language))
    return parts[0] if len(parts) == 1 else ""


@functools.lru_cache(maxsize=10_000)
def _keyword_forms(keyword: str, language: str) -> tuple[frozenset[str], ...]:
    """Each word of a keyword with the forms it matches: itself, and its lemma in ``language``.

    Lemmatised from the keyword as written (with its accents), compared folded.
    """
    forms = []
    for raw in _WORD.findall(unicodedata.normalize("NFC", keyword)):
        parts = _folded(raw)
        if language and len(parts) == 1:
            forms.append(frozenset({parts[0], _lemma_key(raw, language) or parts[0]}))
        else:
            forms.extend(frozenset({part}) for part in parts)
    return tuple(forms)


@functools.lru_cache(maxsize=4_096)
def _catalog_keywords(raw: str, language: str) -> tuple[tuple[str, tuple], ...]:
    """(folded keyword as logged, its forms) for a ``keywords`` field, cached per language."""
    # The first spelling of each folded keyword, in the configured order.
    pairs: dict[str, str] = {}
    for keyword in keyword_phrases(raw):
        pairs.setdefault(fold(keyword).strip(), keyword)
    return tuple((folded, _keyword_forms(keyword, language)) for folded, keyword in pairs.items())


def _quoted(keywords) -> str:
    return ", ".join(f"“{k}”" for k in keywords)


def _name(user) -> str:
    return user.get_full_name() or user.get_username()


def _best(choices, words: Words):
    """(choice, matched keywords) with the most distinct keywords; ties go to the first."""
    best = None
    best_matched: list[str] = []
    for choice in choices:
        matched = words.matched_in(choice.keywords)
        if len(matched) > len(best_matched):
            best, best_matched = choice, matched
    return best, best_matched


@dataclass
class _Catalog:
    topics: list[Topic]
    products: list[Product]
    # (user id, skill) for the active agents of one pool: by pull priority, user, skill name.
    skills: list[tuple[int, Skill]] = field(default_factory=list)


def _catalog_query(*, topics: bool, products: bool, skills_of_pool: int | None):
    """The UNION ALL behind _catalog (None when nothing is asked for)."""
    # kind, pk, name, keywords, then two numbers: a topic's default priority, or a skill's
    # holder and that holder's pull priority in the pool.
    number = PositiveIntegerField()
    arms: list[Any] = []
    if topics:
        arms.append(
            Topic.objects.filter(active=True)
            .annotate(kind=Value("topic", output_field=CharField()), rank=Value(0, number))
            .values_list("kind", "pk", "name", "keywords", "default_priority", "rank")
            .order_by()
        )
    if products:
        arms.append(
            Product.objects.filter(active=True)
            .annotate(
                kind=Value("product", output_field=CharField()),
                priority=Value(0, number),
                rank=Value(0, number),
            )
            .values_list("kind", "pk", "name", "keywords", "priority", "rank")
            .order_by()
        )
    if skills_of_pool is not None:
        # One filter() call: the membership, the active user and the skill are the same join.
        arms.append(
            Skill.objects.filter(
                agents__user__pool_memberships__pool_id=skills_of_pool,
                agents__user__is_active=True,
            )
            .annotate(
                kind=Value("skill", output_field=CharField()),
                holder=F("agents__user_id"),
                rank=F("agents__user__pool_memberships__pull_priority"),
            )
            .values_list("kind", "pk", "name", "keywords", "holder", "rank")
            .order_by()
        )
    if not arms:
        return None
    return arms[0].union(*arms[1:], all=True) if len(arms) > 1 else arms[0]


# The catalog's SQL only depends on which arms are asked for, never on the data, so it is
# compiled once per process and database (the ORM spends longer building this three-way
# UNION than PostgreSQL spends running it). Rows are always read fresh from the database.
_POOL_PLACEHOLDER = -7_310_029_881
_compiled_catalogs: dict[tuple, tuple[str, tuple, int | None]] = {}


def _catalog_rows(*, topics: bool, products: bool, skills_of_pool: int | None) -> list[tuple]:
    connection = connections[router.db_for_read(Topic)]
    key = (connection.alias, connection.vendor, topics, products, skills_of_pool is not None)
    if key not in _compiled_catalogs:
        placeholder = _POOL_PLACEHOLDER if skills_of_pool is not None else None
        query = _catalog_query(topics=topics, products=products, skills_of_pool=placeholder)
        if query is None:
            return []
        sql, params = query.query.get_compiler(connection=connection).as_sql()
        params = tuple(params)
        position = params.index(placeholder) if placeholder is not None else None
        if placeholder is not None and params.count(placeholder) != 1:
            # Cannot tell where the pool goes: read through the ORM (never expected).
            query = _catalog_query(topics=topics, products=products, skills_of_pool=skills_of_pool)
            return list(query) if query is not None else []
        _compiled_catalogs[key] = (sql, params, position)
    sql, params, position = _compiled_catalogs[key]
    if position is not None:
        params = (*params[:position], skills_of_pool, *params[position + 1 :])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [tuple(row) for row in cursor.fetchall()]


def _catalog(*, topics: bool, products: bool, skills_of_pool: int | None = None) -> _Catalog:
    """Active topics and products by name, and the skills of a pool's agents, in one query.

    Routing a new ticket needs all three; reading them together is one round trip, and a
    pool whose agents have no skills costs nothing more.
    """
    rows = _catalog_rows(topics=topics, products=products, skills_of_pool=skills_of_pool)
    rows.sort(key=lambda row: row[2])
    catalog = _Catalog([], [])
    ranked: list[tuple[int, int, Skill]] = []
    for kind, pk, name, keywords, amount, rank in rows:
        if kind == "topic":
            topic = Topic(pk=pk, name=name, keywords=keywords, default_priority=amount, active=True)
            catalog.topics.append(topic)
        elif kind == "product":
            catalog.products.append(Product(pk=pk, name=name, keywords=keywords, active=True))
        else:
            ranked.append((rank, amount, Skill(pk=pk, name=name, keywords=keywords)))
    ranked.sort(key=lambda item: (item[0], item[1]))  # stable: each agent's skills by name
    catalog.skills = [(holder, skill) for _rank, holder, skill in ranked]
    return catalog


def classification(ticket: Ticket, words: Words, catalog: _Catalog) -> tuple[dict, list[str]]:
    """The topic, product and priority the keywords give ``ticket``, and why; writes nothing.

    Only the missing topic and product are looked for; a topic found raises the priority
    to the topic's default, never lowers it: a ticket cannot tell a default "normal" from one
    the customer chose, and an unnoticed urgent ticket costs more than an early look.
    """
    changes: dict[str, Any] = {}
    reasons = []
    if ticket.topic_id is None:
        topic, matched = _best(catalog.topics, words)
        if topic:
            changes["topic"] = topic
            changes["priority"] = max(ticket.priority, topic.default_priority)
            reasons.append(
                _("Topic %(name)s: keywords %(keywords)s.")
                % {"name": topic.name, "keywords": _quoted(matched)}
            )
        else:
            reasons.append(_("No topic keywords matched."))
    if ticket.product_id is None:
        product, matched = _best(catalog.products, words)
        if product:
            changes["product"] = product
            reasons.append(
                _("Product %(name)s: keywords %(keywords)s.")
                % {"name": product.name, "keywords": _quoted(matched)}
            )
        else:
            reasons.append(_("No product keywords matched."))
    return changes, reasons


def routing_catalog(pool_id: int) -> _Catalog:
    """Active topics and products and the skills of the pool's agents: what routing reads."""
    return _catalog(topics=True, products=True, skills_of_pool=pool_id)


@dataclass
class Candidate:
    user: Any
    matched: list[str]
    covers: Any = None  # the absent specialist whose match this substitute takes over
    load: int = 0
    why: list[str] = field(default_factory=list)

    @property
    def score(self) -> int:
        return len(self.matched)


def route_tickets(routes, *, actor=None, now=None) -> list:
    """Give each waiting ticket to the best present specialist of its pool, log why.

    Best: most distinct skill keywords found, then fewest open tickets held, then lowest
    user id. An absent specialist's match goes to their substitute when the substitute is
    a present member of the pool. Without a match the ticket waits in its pool for Next
    ticket.

    ``routes``: (ticket, Words, catalog) triples for tickets the caller holds (created or
    locked in this transaction) and classified. The pools' agents, the specialists'
    absences and the candidates' open tickets are read once for all of them (no query at
    all when no skill matched); the winners are written in one UPDATE, the activity in
    one INSERT, and ``tickets_assigned``/``statuses_changed`` announced once each. A ticket
    routed earlier in the list counts in its agent's load. Returns each ticket's winner
    or None; the tickets are updated in place.
    """
    now = now or timezone.now()
    matches = [_matched_skills(catalog.skills, words) for _ticket, words, catalog in routes]
    members = _pool_members(
        {t.pool_id for (t, _w, _c), m in zip(routes, matches, strict=True) if m}
    )
    specialists = [
        [
            Candidate(user=members[ticket.pool_id][user_id], matched=keywords)
            for user_id, keywords in matched.items()
            if user_id in members.get(ticket.pool_id, {})
        ]
        for (ticket, _words, _catalog), matched in zip(routes, matches, strict=True)
    ]
    absent = _absences({c.user.pk for group in specialists for c in group}, now=now)
    picks = [_present_candidates(group, members.get(ticket.pool_id, {}), absent)
             for (ticket, _w, _c), group in zip(routes, specialists, strict=True)]  # fmt: skip
    loads = _loads({c.user.pk for candidates, _notes in picks for c in candidates})
    rows, winners, assignments, changes = [], [], [], []
    stamp = timezone.now()
    for (ticket, _words, _catalog), (candidates, notes) in zip(routes, picks, strict=True):
        winner = _rank(ticket, candidates, notes, loads)
        rows.append(activity_row(ticket, actor=actor, action=Action.ROUTED, detail=" ".join(notes)))
        winners.append(winner and winner.user)
        if winner is None:
            continue
        loads[winner.user.pk] = loads.get(winner.user.pk, 0) + 1
        before = ticket.status
        ticket.assignee, ticket.status, ticket.updated_at = winner.user, Status.TAKEN, stamp
        rows.append(
            activity_row(ticket, actor=actor, action=Action.ASSIGNED, after=_name(winner.user))
        )
        rows.append(
            activity_row(
                ticket, actor=actor, action=Action.STATUS, before=before, after=Status.TAKEN
            )
        )
        assignments.append(signals.Assignment(ticket, None, winner.user.pk, opened=True))
        changes.append(signals.StatusChange(ticket, before, Status.TAKEN))
    taken = [change.ticket for change in changes]
    if taken:
        # One UPDATE, one CASE arm per winner (bulk_update's arm per ticket and field cost
        # more CPU than the rest of routing): every routed ticket is taken at one stamp.
        by_winner: dict[int, list[int]] = {}
        for ticket in taken:
            by_winner.setdefault(ticket.assignee_id, []).append(ticket.pk)
        arms = [When(pk__in=ids, then=Value(user_id)) for user_id, ids in by_winner.items()]
        Ticket.objects.filter(pk__in=[ticket.pk for ticket in taken]).update(
            assignee_id=Case(*arms, output_field=IntegerField()),
            status=Status.TAKEN,
            updated_at=stamp,
        )
    log_activities(rows)
    if taken:
        announce(signals.tickets_assigned, changes=assignments, actor=actor)
        announce(signals.statuses_changed, changes=changes, actor=actor)
    return winners


def _rank(ticket: Ticket, candidates: list, notes: list[str], loads: dict[int, int]):
    """The winning Candidate or None; adds the decision to ``notes``."""
    if not candidates:
        reason = (
            _("No present specialist; waiting in %(pool)s.")
            if notes
            else _("No specialist matched; waiting in %(pool)s.")
        )
        notes.append(reason % {"pool": ticket.pool})
        return None
    for candidate in candidates:
        candidate.load = loads.get(candidate.user.pk, 0)
    ranked = sorted(candidates, key=lambda c: (-c.score, c.load, c.user.pk))
    winner = ranked[0]
    notes.append(_describe(winner, winner=True))
    notes.extend(_describe(c, winner=False) for c in ranked[1 : 1 + LOGGED_RUNNERS_UP])
    return winner


def _pool_members(pool_ids) -> dict[int, dict[int, Any]]:
    """Active agents of the pools, by pool and user id, in one query (none without pools)."""
    pool_ids = {pk for pk in pool_ids if pk}
    if not pool_ids:
        return {}
    memberships = PoolMembership.objects.filter(
        pool_id__in=pool_ids, user__is_active=True, user__agent_profile__isnull=False
    ).select_related("user__agent_profile")
    members: dict[int, dict[int, Any]] = {}
    for membership in memberships:
        members.setdefault(membership.pool_id, {})[membership.user_id] = membership.user
    return members


def _matched_skills(skills: list[tuple[int, Skill]], words: Words) -> dict[int, list[str]]:
    """User id -> the distinct keywords of their skills found in the text (matchers only)."""
    matched_by_skill: dict[int, list[str]] = {}
    by_user: dict[int, list[str]] = {}
    for user_id, skill in skills:
        if skill.pk not in matched_by_skill:
            matched_by_skill[skill.pk] = words.matched_in(skill.keywords)
        by_user.setdefault(user_id, []).extend(matched_by_skill[skill.pk])
    return {user_id: list(dict.fromkeys(kw)) for user_id, kw in by_user.items() if kw}


def _absences(ids: set[int], *, now) -> dict[int, Absence]:
    """The current absence of each specialist and of their substitutes (who may be away
    too), in one query; none without specialists."""
    if not ids:
        return {}
    current = Absence.objects.current(now)
    substitutes = current.filter(agent_id__in=ids).values("substitute_id")
    absences = current.filter(Q(agent_id__in=ids) | Q(agent_id__in=substitutes)).order_by(
        "starts_at", "pk"
    )
    absent: dict[int, Absence] = {}
    for absence in absences:
        absent.setdefault(absence.agent_id, absence)
    return absent


def _present_candidates(specialists, members, absent) -> tuple[list[Candidate], list[str]]:
    """Specialists who are here, and substitutes for those who are not, with log notes."""
    if not specialists:
        return [], []
    by_user: dict[int, Candidate] = {}
    notes = []
    for candidate in specialists:
        user = candidate.user
        if user.pk not in absent:
            _keep_best(by_user, candidate)
            continue
        substitute = members.get(absent[user.pk].substitute_id)
        if substitute is None or substitute.pk in absent:
            notes.append(
                _("%(agent)s matched %(keywords)s but is away with no present substitute.")
                % {"agent": _name(user), "keywords": _quoted(candidate.matched)}
            )
            continue
        notes.append(
            _("%(agent)s is away; %(substitute)s covers.")
            % {"agent": _name(user), "substitute": _name(substitute)}
        )
        _keep_best(by_user, Candidate(user=substitute, matched=candidate.matched, covers=user))
    return list(by_user.values()), notes


def _keep_best(by_user: dict[int, Candidate], candidate: Candidate) -> None:
    # A substitute who is also a specialist keeps whichever match is stronger.
    current = by_user.get(candidate.user.pk)
    if current is None or candidate.score > current.score:
        by_user[candidate.user.pk] = candidate


def _loads(user_ids: set[int]) -> dict[int, int]:
    """Open tickets each candidate holds, in one aggregate query (none without candidates)."""
    if not user_ids:
        return {}
    return dict(
        Ticket.objects.filter(assignee_id__in=user_ids, status__in=LOAD_STATUSES)
        .values_list("assignee_id")
        .annotate(count=Count("pk"))
        .order_by()
    )


def _describe(candidate: Candidate, *, winner: bool) -> str:
    values = {
        "agent": _name(candidate.user),
        "keywords": _quoted(candidate.matched),
        "score": candidate.score,
        "load": candidate.load,
    }
    if candidate.covers is not None:
        values["agent"] = _("%(substitute)s (covering %(absent)s)") % {
            "substitute": values["agent"],
            "absent": _name(candidate.covers),
        }
    if winner:
        return (
            _("Routed to %(agent)s: matched %(keywords)s (score %(score)s, %(load)s open).")
            % values
        )
    return _("Also matched: %(agent)s, %(keywords)s (score %(score)s, %(load)s open).") % values
