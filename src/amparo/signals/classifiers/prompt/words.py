"""Words of the supported languages, so that spelling correction never invents a term.

Fuzzy, phonetic and leetspeak correction may turn an unknown token into a deciding
term ("chidl" → "child"), but never a word people really write ("shot", "nice",
"bees"). The word lists are wordfreq's (Apache-2.0 code, CC-BY-SA 4.0 data, in the
`prompt` extra): every word with a Zipf frequency of at least `WORD_ZIPF` in English,
Spanish, Catalan, French, Portuguese, Italian or German, accents and case folded like
prompt text. wordfreq has no Galician or Basque lists; Portuguese and Spanish cover
most Galician words, and Basque words are protected only by the lexicons. People also write
in languages the lexicons do not cover: the commoner words (Zipf >= `OTHER_ZIPF`) of other
languages are words too, so Czech "mladé" (young) never becomes German "mädel".

Without wordfreq installed the gate cannot tell words from misspellings, so fuzzy
correction is off (curated misspellings still apply): it may miss a misspelt request
but never invents one.
"""

from __future__ import annotations

from functools import lru_cache

from .normalise import fold_native, non_latin_letter, normalise_text

# Zipf 2 is about once per 100 million words: rare real words ("twen", "gosse") count as
# words, while spellings that only occur as typos of a deciding term stay correctable.
WORD_ZIPF = 2.0
WORDFREQ_LANGUAGES = ("en", "es", "ca", "fr", "pt", "it", "de")
# Other languages, from wordfreq's small lists (nl, pl, cs and ru have only a hard-line lexicon):
# only words seen at least once per million (Zipf 3), so rare spellings there do not shield typos.
# fmt: off
OTHER_LANGUAGES = (
    "cs", "sk", "pl", "nl", "sv", "nb", "da", "fi", "ro", "hu",
    "tr", "sl", "sh", "lt", "lv", "id", "ms", "ru", "uk", "bg",
)
# fmt: on
OTHER_ZIPF = 3.0
# Zipf 4.8 is about once per 60,000 words: everyday words ("will", "gold", "block", "may").
COMMON_ZIPF = 4.8


class _FoldTable(dict[int, str]):
    """Code point → the letters the gate reads for it (accents dropped, "ł" read as "l"),
    filled as characters are first seen."""

    def __missing__(self, code: int) -> str:
        out = normalise_text(chr(code))
        self[code] = out
        return out


_FOLD = _FoldTable()


def _fold(word: str) -> str:
    """Folded as the gate folds prompt words: accents dropped and look-alikes mapped, except
    in words of another script, read as written (normalise._native_words: "мой" keeps its "й")."""
    if word.isascii():
        return word.casefold()
    if any(map(non_latin_letter, word)):
        return fold_native(word)
    return word.casefold().translate(_FOLD)


def _words_above(
    zipf: float, languages: tuple[str, ...] = WORDFREQ_LANGUAGES, wordlist: str = "large"
) -> frozenset[str] | None:
    try:
        from wordfreq import get_frequency_list
    except ImportError:
        return None
    # wordfreq buckets words by centibel: bucket i holds Zipf 9 - i/100
    last_bucket = int(round((9.0 - zipf) * 100))
    words: set[str] = set()
    for lang in languages:
        for bucket in get_frequency_list(lang, wordlist)[: last_bucket + 1]:
            words.update(_fold(w) for w in bucket if w.isalpha())
    return frozenset(words)


@lru_cache(maxsize=1)
def known_words() -> frozenset[str] | None:
    """Folded words of the supported languages, or None when wordfreq is not installed."""
    return _words_above(WORD_ZIPF)


@lru_cache(maxsize=1)
def other_words() -> frozenset[str]:
    """Folded commoner words of other languages. Built on first need (a token
    that would be corrected), not at load: most prompts never ask, and it takes ~0.5 s."""
    return _words_above(OTHER_ZIPF, OTHER_LANGUAGES, "small") or frozenset()


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    """Everyday words (empty without wordfreq): a lowercase pair of them is no name."""
    return _words_above(COMMON_ZIPF) or frozenset()


def is_word(token: str) -> bool:
    """True when `token` (already folded) is a word of a supported language, or a commoner
    word of another language."""
    words = known_words()
    return words is not None and (token in words or token in other_words())


def corrections_enabled() -> bool:
    return known_words() is not None
