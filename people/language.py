"""The language a text is written in, and the dictionary form (lemma) of its words.

Both work offline, for the languages the product speaks (``settings.LANGUAGES``):

- ``detect_language``: py3langid's naive Bayes model, restricted to English, Portuguese
  and Polish. A short text ("Fatura", "OK") says little, so a guess under
  ``MIN_CONFIDENCE`` gives the caller's default (the mailbox's language) instead.
- ``lemma``: simplemma's dictionaries ("fakturze" → "faktura", "hasła" → "hasło",
  "ramais" → "ramal"), loaded once per process on first use in the memory-frugal form
  (about 70 MB for the three languages instead of 500 MB, at the same look-up speed
  behind our cache); the identifier's model takes about 50 MB more. Snowball stemmers
  (PyStemmer 3.1 has Portuguese and Polish) were tried and rejected: Portuguese "ramais"
  stems to "ram" but "ramal" to "ramal", Polish "fakturze" to "fakturz" but "faktura" to
  "faktur", and "faturamento" (billing) would collapse into "fatura" (invoice).
"""

import functools
import re
import threading
import unicodedata

from django.conf import settings

# Our language codes and the ISO 639-1 codes the libraries use.
_ISO = {"en": "en", "pt-br": "pt", "pl": "pl"}
_OURS = {iso: code for code, iso in _ISO.items()}
MIN_CONFIDENCE = 0.8
# The identifier reads the start of a mail (its cost grows with the length): a few
# sentences tell three languages apart.
DETECT_CHARS = 1_000
_LETTERS = re.compile(r"[^\W\d_]{3}")

_lock = threading.Lock()
_identifier = None


def _language_identifier():
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
            identifier.set_languages([_ISO[code] for code, _name in settings.LANGUAGES])
            # Only our languages are ever asked for: drop the other 94 (about 27 MB).
            identifier._full_model = (
                identifier.nb_ptc,
                identifier.nb_pc,
                identifier.nb_classes,
            )
            _identifier = identifier
    return _identifier


def detect_language(text: str, *, default: str = "") -> str:
    """One of our language codes ("en", "pt-br", "pl"), or ``default`` when unsure."""
    text = " ".join(text[:DETECT_CHARS].split())
    if not _LETTERS.search(text):
        return default
    iso, confidence = _language_identifier().classify(text)
    if confidence < MIN_CONFIDENCE:
        return default
    return _OURS.get(iso, default)


def supported(language: str) -> bool:
    return language in _ISO


@functools.lru_cache(maxsize=100_000)
def lemma(word: str, language: str) -> str:
    """The dictionary form of ``word`` in ``language`` (lower case), or the word itself."""
    iso = _ISO.get(language)
    if iso is None:
        return word
    import simplemma

    word = unicodedata.normalize("NFC", word.lower())
    return simplemma.lemmatize(word, lang=iso, low_memory=True).lower()


def load_models() -> None:
    """Load the identifier's model and every dictionary now, not on the first mail."""
    _language_identifier()
    for code, _name in settings.LANGUAGES:
        lemma("a", code)
