"""Undo the obfuscation tricks used to sneak a request past a word filter.

The output is a lowercase, accent-free token list in which confusable letters,
leetspeak, zero-width characters, spaced or dotted letters, repeated letters and
word-standing emoji have been turned back into plain words. Matching happens on
these tokens; misspellings are handled at match time (see rules.py), because
they need the lexicon.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

LEXICON_DIR = Path(__file__).parent / "lexicon"
# Every scalar stays a string ("no", "on", "null" are words here); the C loader when present.
YAML_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)
SYMBOLS_FILE = "symbols.yaml"
AGES_FILE = "ages.yaml"

# Invisible characters: zero-width space/joiners, direction marks and embeddings,
# word joiner and invisible operators, BOM, soft hyphen, combining grapheme joiner,
# Hangul fillers, Mongolian vowel separator, variation selectors and tag characters.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e007f\U000e0100-\U000e01ef]"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Letters (or digits) written one at a time with separators: "n u d e", "n.u.d.e", "n-u-d-e".
_SPACED = re.compile(r"(?<![^\W_])(?:[^\W_][\s.\-_*·•|/]+){2,}[^\W_](?![^\W_])")
# "12 y.o." / "12 y. o." is an age unit, not letters spelled out one by one.
_YO = re.compile(r"(\d)\s*-?\s*y\s*[./]?\s*o\b\.?")
_TOKEN = re.compile(r"[a-z0-9@$!|€]+")
_DIGITS_THEN_LETTERS = re.compile(r"^(\d{1,3})([a-z]+)$")
_LETTERS_THEN_DIGITS = re.compile(r"^([a-z]+?)(\d{1,3})$")
_RUN3 = re.compile(r"(.)\1{2,}")
_RUN2 = re.compile(r"(.)\1+")


@dataclass(frozen=True)
class Symbols:
    confusables: dict[str, str]
    leet: dict[str, str]
    emoji: dict[str, str]


@lru_cache(maxsize=1)
def load_symbols() -> Symbols:
    raw: dict[str, Any] = yaml.load(
        (LEXICON_DIR / SYMBOLS_FILE).read_text("utf-8"), Loader=YAML_LOADER
    )
    return Symbols(
        confusables={str(k): str(v) for k, v in raw["confusables"].items()},
        leet={str(k): str(v) for k, v in raw["leet"].items()},
        emoji={str(k): str(v) for k, v in raw["emoji"].items()},
    )


@lru_cache(maxsize=1)
def unit_words() -> frozenset[str]:
    """Age units that may be glued to digits ("12yo", "12anos", "12jahrige")."""
    raw: dict[str, Any] = yaml.load(
        (LEXICON_DIR / AGES_FILE).read_text("utf-8"), Loader=YAML_LOADER
    )
    words = {w for key in ("strong_units", "weak_units", "suffix_units") for w in raw[key]}
    return frozenset(w.replace(" ", "") for w in words) | {"yo", "yr", "yrs", "yrold"}


@lru_cache(maxsize=1)
def _translation() -> dict[int, str]:
    symbols = load_symbols()
    table = {ord(k): v for k, v in symbols.confusables.items() if len(k) == 1}
    for k, v in symbols.emoji.items():
        if len(k) == 1:
            table[ord(k)] = f" {v} "
    return table


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def squeeze_repeats(token: str) -> str:
    """Runs of three or more of one letter become two ("nuuude" → "nuude")."""
    return _RUN3.sub(r"\1\1", token)


def skeleton(token: str) -> str:
    """Every run of one letter becomes one letter; used as a fallback match key."""
    return _RUN2.sub(r"\1", token)


def _deleet(token: str) -> list[str]:
    """Map leetspeak inside a mixed token, but keep "12yo" / "12anos" as number + unit."""
    if token.isdigit():
        return [token]
    m = _DIGITS_THEN_LETTERS.match(token)
    if m and (
        m.group(2) in unit_words() or (m.group(2) in _ORDINAL_SUFFIXES and len(m.group(1)) <= 2)
    ):
        return [m.group(1), m.group(2)]
    if not any(c.isalpha() for c in token):
        return [token.strip("@$!|€")] if token.strip("@$!|€").isdigit() else []
    m = _LETTERS_THEN_DIGITS.match(token)
    if m and len(m.group(2)) >= 2 and len(m.group(1)) > 2 and int(m.group(2)) <= 120:
        # "girl12" → girl 12; "s3x" does not match (the digit is inside the word)
        return [m.group(1), m.group(2)]
    leet = load_symbols().leet
    mapped = "".join(leet.get(c, c) for c in token)
    return [mapped] if mapped else []


_ORDINAL_SUFFIXES = frozenset(
    {"th", "st", "nd", "rd", "o", "a", "e", "er", "eme", "ieme", "es", "ta", "to", "te"}
)


def deleet(token: str) -> str:
    """Leetspeak read back as letters ("350" → "eso"), for tokens that are not plausible numbers."""
    leet = load_symbols().leet
    return "".join(leet.get(c, c) for c in token)


def _join_spaced(match: re.Match[str]) -> str:
    joined = re.sub(r"[\s.\-_*·•|/]+", "", match.group(0))
    # "a 1 2" stays apart; "n 4 k 3 d" (mostly letters) is one word
    if sum(c.isalpha() for c in joined) < 2 or joined.isdigit():
        return match.group(0)
    return joined


def normalise_text(text: str) -> str:
    """Unicode clean-up: compatibility forms, invisibles, confusables, emoji, case, accents."""
    text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    text = text.casefold()
    text = text.translate(_translation())
    text = strip_accents(text)
    return text.translate(_translation())


def _plain_tokens(text: str, joined: bool) -> list[tuple[str, bool]]:
    return [(squeeze_repeats(tok), joined) for raw in _TOKEN.findall(text) for tok in _deleet(raw)]


def tokenise_marked(text: str) -> list[tuple[str, bool]]:
    """Tokens, each flagged True when it was rebuilt from spaced-out letters
    ("t o d d l e r"): such a token may hold several words run together."""
    clean = normalise_text(text)
    clean = _YO.sub(r"\1 yo ", clean)
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in _SPACED.finditer(clean):
        joined = _join_spaced(m)
        if joined == m.group(0):
            continue
        out += _plain_tokens(clean[pos : m.start()], False)
        out += _plain_tokens(joined, True)
        pos = m.end()
    out += _plain_tokens(clean[pos:], False)
    return out


def tokenise(text: str) -> list[str]:
    """Clean text → tokens with spaced letters joined, leetspeak mapped and repeats squeezed."""
    return [tok for tok, _ in tokenise_marked(text)]
