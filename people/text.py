"""Keyword helpers shared by skill and topic matching."""

import re
import unicodedata

_SEPARATORS = re.compile(r"[,\n;]+")


def fold(text: str) -> str:
    """Lower-case and strip accents, so "Faturação" matches "faturacao" and "Łódź" "lodz"."""
    if text.isascii():
        return text.lower()  # the same result, without normalising (most words of a mail)
    text = text.casefold().replace("ł", "l")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def keyword_phrases(raw: str) -> list[str]:
    """The keywords of a comma-, semicolon- or line-separated list, as written."""
    return [word.strip() for word in _SEPARATORS.split(raw or "") if word.strip()]


def split_keywords(raw: str) -> list[str]:
    """The keywords, folded (see ``fold``)."""
    return [fold(word).strip() for word in keyword_phrases(raw)]
