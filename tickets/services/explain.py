"""What the keyword rules make of a text, and why: the admin's classification tester.

The same matcher as routing (``routing.Words``), over every active topic and product and
every skill, so an admin can check a keyword before a customer's mail does.
"""

from dataclasses import dataclass, field

from django.conf import settings

from people.language import detect_language
from people.models import Skill
from people.text import fold, keyword_phrases
from tickets.models import Product, Topic
from tickets.services.routing import Words


@dataclass
class KeywordMatch:
    keyword: str  # as the admin wrote it: "hasło"
    words: list[str]  # the text's words that matched it: "hasła"


@dataclass
class EntryMatch:
    entry: object  # a Topic, Product or Skill
    matches: list[KeywordMatch]
    holders: list[str] = field(default_factory=list)  # a skill's agents
    chosen: bool = False  # the one routing would pick (most distinct keywords, first on ties)

    @property
    def score(self) -> int:
        return len(self.matches)


@dataclass
class Explanation:
    language: str
    detected: bool  # False: the admin chose it, or the text was too short to tell
    topics: list[EntryMatch]
    products: list[EntryMatch]
    skills: list[EntryMatch]


def _matches(entries, words: Words) -> list[EntryMatch]:
    found = []
    for entry in entries:
        keywords = words.matched_in(entry.keywords)
        if keywords:
            written: dict[str, str] = {}
            for keyword in keyword_phrases(entry.keywords):
                written.setdefault(fold(keyword).strip(), keyword)
            matches = [KeywordMatch(written.get(k, k), words.evidence(k)) for k in keywords]
            found.append(EntryMatch(entry=entry, matches=matches))
    return found


def _mark_best(found: list[EntryMatch]) -> list[EntryMatch]:
    # As routing's _best: entries in name order, the first with the highest score wins.
    if found:
        max(found, key=lambda item: item.score).chosen = True
    return sorted(found, key=lambda item: -item.score)


def explain_text(text: str, *, language: str = "") -> Explanation:
    """Which topic, product and skills ``text`` matches, with each keyword and word.

    ``language``: one of ``settings.LANGUAGES``, or blank to detect it (falling back to the
    site's language, as mail falls back to its mailbox's). Reads four queries; writes nothing.
    """
    detected = not language
    if detected:
        found = detect_language(text)
        detected = bool(found)
        language = found or settings.LANGUAGE_CODE
    words = Words(text, language)
    topics = Topic.objects.filter(active=True).order_by("name")
    products = Product.objects.filter(active=True).order_by("name")
    skills = Skill.objects.order_by("name").prefetch_related("agents__user")
    skill_matches = _matches(skills, words)
    for item in skill_matches:
        item.holders = sorted(
            profile.user.get_full_name() or profile.user.get_username()
            for profile in item.entry.agents.all()  # type: ignore[attr-defined]
        )
    return Explanation(
        language=language,
        detected=detected,
        topics=_mark_best(_matches(topics, words)),
        products=_mark_best(_matches(products, words)),
        skills=sorted(skill_matches, key=lambda item: -item.score),
    )
