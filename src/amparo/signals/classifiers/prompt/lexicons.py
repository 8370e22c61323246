"""The request gate's lexicons: per-language words and phrases by category, loaded once.

Each language file in lexicon/ lists words and phrases by category (minor terms,
school context, sexual terms, clothing-removal verbs, ...), function words for
language detection, curated misspellings and words that count only in their own
language (`only_if_lang`).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from .ages import LEXICON_LANGUAGES, number_tables
from .normalise import LEXICON_DIR, YAML_LOADER, skeleton, tokenise_term

# Words that say what a text does with its cues (contexts.py): discusses a subject, asks for
# something, negates a word, asks for advice. They decide nothing alone.
FRAMING_CATEGORIES = (
    "topic", "inform", "seek", "creative", "negator", "negator_near", "negatable", "contrast", "advice", "wellbeing",
    "animal",
)  # fmt: skip
CATEGORIES = (
    "minor",
    "minor_weak",
    "school",
    "hairstyle",
    "small_body",
    "sexual",
    "sexual_violence",
    "revealing",
    "clothing",
    "remove",
    "wear",
    "nudify",
    "xray",
    "adult",
    "pronoun",
    "image_ref",
    "real_person",
    "neutral",
    "person",
    "edit",
    "nudify_head",
    "nudify_tail",
    "exploit",
    "protective",
    "infant",
    "bare",
    "everyday",
    "request",
    "body",
    "care",
    "identity",
    *FRAMING_CATEGORIES,
)
MAX_PHRASE = 7
FUZZY_MIN_LEN = 5
# Endings that inflect a word without changing what it names (plural, gender, case).
INFLECTIONS = frozenset("senr")
# Categories a misspelling may be corrected into: the ones that decide a refusal.
FUZZY_CATEGORIES = (
    "minor", "sexual", "sexual_violence", "nudify", "small_body", "school", "hairstyle", "revealing", "body"
)  # fmt: skip


@dataclass(frozen=True)
class Entry:
    category: str
    lang: str
    restricted: bool


@dataclass(frozen=True)
class Lexicon:
    phrases: dict[tuple[str, ...], tuple[Entry, ...]]
    stopwords: dict[str, frozenset[str]]  # token → languages
    misspellings: dict[str, tuple[str, ...]]
    vocabulary: frozenset[str]
    not_names: frozenset[str]  # function words and deciding terms: never part of a personal name
    prefixes: frozenset[tuple[str, ...]]  # every leading part of every phrase: matching stops early
    first_words: frozenset[str]  # the first word of every phrase: most tokens start none
    skeletons: dict[str, str]
    fuzzy_terms: frozenset[str]  # the values of `skeletons`, for O(1) membership
    deletions: dict[str, str]  # one letter deleted from a term → the term
    person_words: frozenset[str]
    sexual_prefixes: tuple[tuple[str, str], ...]  # (prefix, lang)
    minor_prefixes: tuple[tuple[str, str], ...]


def _load_language(lang: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.load((LEXICON_DIR / f"{lang}.yaml").read_text("utf-8"), Loader=YAML_LOADER)
    return data


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


@lru_cache(maxsize=1)
def load_lexicon() -> Lexicon:
    phrases: dict[tuple[str, ...], list[Entry]] = defaultdict(list)
    stopwords: dict[str, set[str]] = defaultdict(set)
    misspellings: dict[str, tuple[str, ...]] = {}
    fuzzy_terms: set[str] = set()
    person: set[str] = set()
    sexual_prefixes: list[tuple[str, str]] = []
    minor_prefixes: list[tuple[str, str]] = []
    for lang in LEXICON_LANGUAGES:
        raw = _load_language(lang)
        sexual_prefixes += [(p, lang) for p in raw.get("sexual_prefix", [])]
        minor_prefixes += [(p, lang) for p in raw.get("minor_prefix", [])]
        restricted = {" ".join(tokenise_term(t)) for t in raw.get("only_if_lang", [])}
        for word in raw["stopwords"]:
            for tok in tokenise_term(word):
                stopwords[tok].add(lang)
        for wrong, right in (raw.get("misspellings") or {}).items():
            key = "".join(tokenise_term(str(wrong)))
            if key and key != " ".join(tokenise_term(str(right))):
                misspellings[key] = tuple(tokenise_term(str(right)))
        for category in CATEGORIES:
            for term in raw.get(category, []):
                toks = tuple(tokenise_term(str(term)))
                if not toks:
                    continue
                entry = Entry(category, lang, " ".join(toks) in restricted)
                if entry not in phrases[toks]:
                    phrases[toks].append(entry)
                if category in FUZZY_CATEGORIES and len(toks) == 1:
                    fuzzy_terms.add(toks[0])
                if category in ("person", "minor", "minor_weak", "adult") and len(toks) == 1:
                    person.add(toks[0])
    numbers = {t for key in number_tables().phrases for t in key}
    vocabulary = {t for key in phrases for t in key} | set(stopwords) | numbers
    skeletons: dict[str, str] = {}
    deletions: dict[str, str] = {}
    for term in sorted(fuzzy_terms):
        skeletons.setdefault(skeleton(term), term)
        if len(term) >= FUZZY_MIN_LEN:
            for d in _deletes(term):
                if d not in vocabulary:
                    deletions.setdefault(d, term)
    # "muller" (Galician for woman) is also a surname: words about people may be names
    # framing words ("law", "news", "support") are no deciding terms either: "Jude Law"
    name_like = {"adult", "person", "real_person", "image_ref", *FRAMING_CATEGORIES}
    not_names = set(stopwords) | {
        k[0] for k, entries in phrases.items() if len(k) == 1 and any(e.category not in name_like for e in entries)
    }
    return Lexicon(
        phrases={k: tuple(v) for k, v in phrases.items()},
        stopwords={k: frozenset(v) for k, v in stopwords.items()},
        misspellings=misspellings,
        vocabulary=frozenset(vocabulary),
        not_names=frozenset(not_names),
        prefixes=frozenset(key[:k] for key in phrases for k in range(1, len(key) + 1)),
        first_words=frozenset(key[0] for key in phrases),
        skeletons=skeletons,
        fuzzy_terms=frozenset(skeletons.values()),
        deletions=deletions,
        person_words=frozenset(person),
        sexual_prefixes=tuple(sexual_prefixes),
        minor_prefixes=tuple(minor_prefixes),
    )


def language_counts(tokens: Sequence[str], lexicon: Lexicon) -> Counter[str]:
    stopwords = lexicon.stopwords
    none: tuple[str, ...] = ()
    return Counter(lang for tok in tokens for lang in stopwords.get(tok, none))


def detect_languages(tokens: Sequence[str], lexicon: Lexicon, counts: Counter[str] | None = None) -> tuple[str, ...]:
    """Supported languages whose function words appear, most likely first."""
    counts = language_counts(tokens, lexicon) if counts is None else counts
    if not counts:
        return ()
    best = max(counts.values())
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], LEXICON_LANGUAGES.index(kv[0])))
    return tuple(lang for lang, c in ranked if c >= max(1.0, best * 0.5))


def _strict_languages(
    tokens: Sequence[str], lexicon: Lexicon, counts: Counter[str] | None = None
) -> tuple[str, ...] | None:
    """Languages tied for the most function words; None when no language is recognised
    (then words restricted to one language count everywhere: protection first)."""
    counts = language_counts(tokens, lexicon) if counts is None else counts
    if not counts:
        return None
    best = max(counts.values())
    return tuple(lang for lang, c in counts.items() if c == best)
