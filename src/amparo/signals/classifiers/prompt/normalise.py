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
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

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


def _mark_ranges() -> str:
    """A regex class body of every combining mark in the Basic Multilingual Plane (vowel signs of
    Devanagari or Thai, kana voicing marks...): they belong to the word they sit in."""
    out: list[str] = []
    start = prev = -2
    for cp in range(0x300, 0x10000):
        if unicodedata.category(chr(cp)).startswith("M"):
            if cp != prev + 1:
                if start >= 0:
                    out.append(f"\\u{start:04x}-\\u{prev:04x}")
                start = cp
            prev = cp
    out.append(f"\\u{start:04x}-\\u{prev:04x}")
    return "".join(out)


_MARKS = _mark_ranges()
# A token: letters, digits and marks of any script, and the symbols leetspeak uses. Words of
# other scripts are kept whole ("девочка", "लड़की"), so rules and the learned stage can read them.
_TOKEN = re.compile(f"[\\w@$!|€{_MARKS}]+")
_WORD = re.compile(f"(?:[^\\W\\d_]|[{_MARKS}])+")
_DIGITS_THEN_LETTERS = re.compile(r"^(\d{1,3})([a-z]+)$")
_DIGITS_THEN_FOREIGN = re.compile(r"^(\d{1,3})([^\x00-\x7f]\D*)$")
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
    raw: dict[str, Any] = yaml.load((LEXICON_DIR / SYMBOLS_FILE).read_text("utf-8"), Loader=YAML_LOADER)
    return Symbols(
        confusables={str(k): str(v) for k, v in raw["confusables"].items()},
        leet={str(k): str(v) for k, v in raw["leet"].items()},
        emoji={str(k): str(v) for k, v in raw["emoji"].items()},
    )


@lru_cache(maxsize=1)
def unit_words() -> frozenset[str]:
    """Age units that may be glued to digits ("12yo", "12anos", "12jahrige")."""
    raw: dict[str, Any] = yaml.load((LEXICON_DIR / AGES_FILE).read_text("utf-8"), Loader=YAML_LOADER)
    words = {w for key in ("strong_units", "weak_units", "suffix_units") for w in raw[key]}
    return frozenset(w.replace(" ", "") for w in words) | {"yo", "yr", "yrs", "yrold"}


@lru_cache(maxsize=1)
def _translation() -> dict[int, str]:
    symbols = load_symbols()
    table = {ord(k): v for k, v in symbols.confusables.items() if len(k) == 1}
    for k, v in symbols.emoji.items():
        if len(k) == 1:
            table[ord(k)] = f" {v} "
    table[ord("_")] = " "  # "nude_girl" is two words; tokens are then one character class (_TOKEN)
    return table


def strip_accents(text: str) -> str:
    if text.isascii():
        return text
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
    if m and (m.group(2) in unit_words() or (m.group(2) in _ORDINAL_SUFFIXES and len(m.group(1)) <= 2)):
        return [m.group(1), m.group(2)]
    m = _DIGITS_THEN_FOREIGN.match(token)
    if m:  # "12岁", "12лет": a number and a word of another script, never leetspeak
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


_ORDINAL_SUFFIXES = frozenset({"th", "st", "nd", "rd", "o", "a", "e", "er", "eme", "ieme", "es", "ta", "to", "te"})


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


@lru_cache(maxsize=8192)
def _normalise_char(ch: str) -> str:
    return normalise_text(ch)


_NON_ASCII = re.compile(r"[^\x00-\x7f]+")


def _other_script_letters(ch: str) -> list[str]:
    """The letters of `ch` (NFKC) that belong to a script other than Latin."""
    return [
        c
        for c in unicodedata.normalize("NFKC", ch)
        if c.isalpha() and not c.isascii() and not unicodedata.name(c, "").startswith("LATIN")
    ]


@lru_cache(maxsize=8192)
def foreign_letter(ch: str) -> bool:
    """A letter of another script that no Latin letter is mistaken for (Cyrillic "л", Greek "λ",
    CJK, Arabic, Devanagari...). Fullwidth and styled Latin letters are Latin (NFKC)."""
    confusables = load_symbols().confusables
    return any(c not in confusables for c in _other_script_letters(ch))


@lru_cache(maxsize=8192)
def non_latin_letter(ch: str) -> bool:
    """A letter of any script but Latin, look-alikes included ("а", "л", "λ")."""
    return bool(_other_script_letters(ch))


@lru_cache(maxsize=65536)  # words repeat in long texts
def _is_native(word: str) -> bool:
    return not word.isascii() and any(map(foreign_letter, word))


@lru_cache(maxsize=65536)
def _is_non_latin(word: str) -> bool:
    return not word.isascii() and any(map(non_latin_letter, word))


def _native_words(text: str, force: bool = False) -> list[tuple[int, int]]:
    """Spans of words written in another script. A word with one foreign letter is no Latin word
    in disguise, so its look-alike letters stay as written ("голая" is not mapped to "гoлaя");
    once a text has such a word (or `force`: a lexicon entry), every word with a letter of
    another script is read in it too, so Russian "не" (not) never becomes English "he"."""
    words = [m for m in _WORD.finditer(text) if not m.group(0).isascii()]
    if force or any(_is_native(m.group(0)) for m in words):
        chosen = [m.span() for m in words if _is_non_latin(m.group(0))]
    else:
        chosen = []
    spans: list[tuple[int, int]] = []
    for s, e in chosen:
        gap = text[spans[-1][1] : s] if spans else ""
        if spans and gap.isascii() and not _CONTROL.search(gap):
            spans[-1] = (spans[-1][0], e)  # plain ASCII between two such words maps alike both ways
        else:
            spans.append((s, e))
    return spans


def fold_native(text: str) -> str:
    """A word of another script as the gate reads it: compatibility form and case folded only
    (no look-alike mapping; no accent stripping, which would cut Devanagari vowel signs or kana
    marks)."""
    return unicodedata.normalize("NFKC", text).casefold().replace("_", " ")


_native_char = lru_cache(maxsize=8192)(fold_native)


def normalise_mapped(text: str, force_native: bool = False) -> tuple[str, list[int]]:
    """`normalise_text` plus, for every output character, the index of the input
    character it came from, so that evidence can cite the prompt as written.

    Linear: ASCII runs and words of other scripts are mapped a run at a time, other characters
    one at a time (cached); composed and decomposed accents give the same letters because
    accents are dropped.
    """
    pieces: list[str] = []
    index: list[int] = []
    pos = 0
    for s, e in _native_words(text, force_native) if not text.isascii() else ():
        _latin_segment(text, pos, s, pieces, index)
        out = fold_native(text[s:e])
        if len(out) == e - s:
            pieces.append(out)
            index.extend(range(s, e))
        else:
            for i in range(s, e):
                one = _native_char(text[i])
                pieces.append(one)
                index.extend([i] * len(one))
        pos = e
    _latin_segment(text, pos, len(text), pieces, index)
    return "".join(pieces), index


_CHUNK = 64


def _latin_segment(text: str, lo: int, hi: int, pieces: list[str], index: list[int]) -> None:
    """text[lo:hi] (no word of another script in it) normalised onto pieces / index: in one
    piece when no character changes length (accents dropped, most text), else in chunks, and
    one character at a time only inside a chunk that needs it."""
    if lo >= hi:
        return
    whole = normalise_text(text[lo:hi])
    if len(whole) == hi - lo:
        pieces.append(whole)
        index.extend(range(lo, hi))
        return
    if hi - lo > _CHUNK:
        for start in range(lo, hi, _CHUNK):
            _latin_segment(text, start, min(hi, start + _CHUNK), pieces, index)
        return
    mine: list[str] = []
    where: list[int] = []
    pos = lo
    for m in _NON_ASCII.finditer(text, lo, hi):
        if m.start() > pos:
            mine.append(normalise_text(text[pos : m.start()]))  # ASCII: one character in, one out
            where.extend(range(pos, m.start()))
        for i in range(m.start(), m.end()):
            out = _normalise_char(text[i])
            if out:
                mine.append(out)
                where.extend([i] * len(out))
        pos = m.end()
    if pos < hi:
        mine.append(normalise_text(text[pos:hi]))
        where.extend(range(pos, hi))
    if sum(map(len, mine)) != len(where):  # a translation that changes ASCII length
        mine, where = [], []
        for i in range(lo, hi):
            out = _normalise_char(text[i])
            mine.append(out)
            where.extend([i] * len(out))
    pieces.extend(mine)
    index.extend(where)


class Token(NamedTuple):  # a tuple: long texts make one per word
    text: str
    joined: bool  # rebuilt from spaced-out letters: may hold several words run together
    start: int  # span in the original prompt
    end: int
    changed: bool = False  # leetspeak was read back into letters
    squeezed: bool = False  # a run of 3+ letters was shortened: no word of ours looks like that


@lru_cache(maxsize=65536)
def _token_parts(raw: str) -> tuple[tuple[str, bool, bool], ...]:
    """(word, leetspeak read back, letters squeezed) for each word in one raw token."""
    out = []
    for tok in _deleet(raw):
        word = squeeze_repeats(tok)
        leet = any(c.isdigit() or c in "@$!|€" for c in raw) and not tok.isdigit()
        out.append((word, leet and not _is_unit_split(raw, tok), word != tok))
    return tuple(out)


def _plain_tokens(clean: str, index: list[int], lo: int, hi: int, joined: bool) -> list[Token]:
    out: list[Token] = []
    for m in _TOKEN.finditer(clean, lo, hi):
        start, end = index[m.start()], index[m.end() - 1] + 1
        for word, leet, squeezed in _token_parts(m.group(0)):
            out.append(Token(word, joined, start, end, leet, squeezed))
    return out


def _is_unit_split(raw: str, tok: str) -> bool:
    """ "12yo" → "12", "yo": the letters were never digits."""
    return raw.endswith(tok) and tok.isalpha() and raw[: -len(tok)].isdigit()


def prepare(text: str, force_native: bool = False) -> tuple[str, list[int]]:
    """Normalised text and, per character, its index in `text` ("12 y.o." read as "12 yo")."""
    clean, index = normalise_mapped(text, force_native)
    # "12 y.o." → "12 yo": rebuilt with the index kept in step
    if _YO.search(clean):
        parts: list[str] = []
        new_index: list[int] = []
        pos = 0
        for m in _YO.finditer(clean):
            parts.append(clean[pos : m.start()])
            new_index.extend(index[pos : m.start()])
            repl = m.group(1) + " yo "
            parts.append(repl)
            y = m.start() + m.group(0).index("y", 1)
            new_index.extend([index[m.start()], index[y], index[y], index[m.end() - 1], index[m.end() - 1]])
            pos = m.end()
        parts.append(clean[pos:])
        new_index.extend(index[pos:])
        clean, index = "".join(parts), new_index
    return clean, index


def spaced_runs(clean: str) -> list[tuple[int, int, str]]:
    """(start, end, letters joined) of each run of spaced-out letters in normalised text."""
    out = []
    for m in _SPACED.finditer(clean):
        joined = _join_spaced(m)
        if joined != m.group(0):
            out.append((m.start(), m.end(), joined))
    return out


def raw_tokens(clean: str, lo: int, hi: int) -> Iterator[re.Match[str]]:
    """The raw tokens of clean[lo:hi] (split further by `token_parts`)."""
    return _TOKEN.finditer(clean, lo, hi)


def token_parts(raw: str) -> tuple[tuple[str, bool, bool], ...]:
    """(word, leetspeak read back, letters squeezed) for each word in one raw token."""
    return _token_parts(raw)


def tokenise_spans(text: str, force_native: bool = False) -> list[Token]:
    """Tokens with their span in the original text, rebuilt from spaced letters,
    leetspeak and letter runs."""
    clean, index = prepare(text, force_native)
    out: list[Token] = []
    pos = 0
    for start, end, joined in spaced_runs(clean):
        out += _plain_tokens(clean, index, pos, start, False)
        out += [
            Token(t.text, True, index[start], index[end - 1] + 1, t.changed, t.squeezed)
            for t in _plain_tokens(joined, [0] * len(joined), 0, len(joined), True)
        ]
        pos = end
    out += _plain_tokens(clean, index, pos, len(clean), False)
    return out


def tokenise_marked(text: str) -> list[tuple[str, bool]]:
    """Tokens, each flagged True when it was rebuilt from spaced-out letters
    ("t o d d l e r"): such a token may hold several words run together."""
    return [(t.text, t.joined) for t in tokenise_spans(text)]


def tokenise(text: str) -> list[str]:
    """Clean text → tokens with spaced letters joined, leetspeak mapped and repeats squeezed."""
    return [t.text for t in tokenise_spans(text)]


def tokenise_term(text: str) -> list[str]:
    """A lexicon entry's tokens: an entry written in another script is read in it ("он" stays
    Russian), as it is in a prompt written in that script."""
    return [t.text for t in tokenise_spans(text, force_native=True)]
