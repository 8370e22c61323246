"""Identifiable real people in a prompt: full personal names and @handles.

A sexual request about a named person is a deepfake request whoever the person is
(a celebrity, a classmate, an ex). Names come from lexicon/names_first.txt and
names_last.txt (derived from names-dataset, see build_names.py): a full name is a known
first name followed by a known last name ("emma watson", "laura garcia lopez").

What keeps ordinary words from being read as names:
- a word of our lexicons (a deciding term, a function word, "model", "girl") is never
  part of a name;
- in lowercase text both must be popular names (top POPULAR_RANK in a country) and
  neither an everyday word (Zipf >= 4.8 in a supported language) nor a word listed in
  WORD_NAMES (colours, nature, "will", "may"): "rose gold", "block wall" are words,
  "emma watson" is a name; capitalised as names ("Ana Silva") in a text that is not
  all in title case, any listed names count;
- a name after an attribution ("by", "style of", "inspired by", "art de", "im Stil von")
  names an artist, not the person shown.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from .normalise import LEXICON_DIR
from .words import common_words

FIRST_FILE = LEXICON_DIR / "names_first.txt"
# Our own additions: Galician, Basque and Catalan names that rank too low in a Spain-wide list.
EXTRA_FIRST_FILE = LEXICON_DIR / "names_first_extra.txt"
LAST_FILE = LEXICON_DIR / "names_last.txt"
# @handle not inside an e-mail address; 2-30 characters as the big platforms allow
_HANDLE = re.compile(r"(?<![\w@.])@([A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?)(?![\w@])")
# Words before a name that make it the author of a style, not the person depicted.
ATTRIBUTION = frozenset(
    {
        "by", "style", "artist", "artists", "inspired", "painted", "drawn", "photographed", "art",
        "por", "estilo", "estil", "artista", "par", "peintre", "pelo", "pela", "stile", "stil",
        "egilea", "estiloan",
    }
)  # fmt: skip
_ATTRIBUTION_REACH = 6  # "in the style of Luis Royo or Boris Vallejo"
_AFTER = frozenset({"inspired", "style", "styled", "estilo", "stil", "stile"})  # "Alberto Vargas inspired"
# In lowercase text only names this popular in some supported country count ("toy jessica"
# and "block wall" are in the long lists, as rare names somewhere, but are words here).
POPULAR_RANK = 400
# Names that are also less frequent everyday words, mostly colours, nature and seasons:
# in lowercase text they are read as words.
WORD_NAMES = frozenset(
    {
        "rose", "rosa", "amber", "stone", "hill", "blanca", "dawn", "sky", "autumn", "summer", "river",
        "angel", "angela", "grace", "hope", "joy", "ruby", "pearl", "crystal", "ivory", "coral", "jade",
        "violet", "lily", "daisy", "iris", "flora", "neve", "nieves", "cielo", "estrella", "perla",
        "bianca", "rouge", "blanc", "bella", "linda", "dolce", "gold", "silver", "brown", "black",
        "white", "green", "gray", "grey", "young", "long", "wood", "woods", "lake", "field", "snow",
        "will", "may", "mark", "bill", "art", "guy", "pat", "max", "sol", "mar", "luz", "paz", "king",
        "van", "price", "teddy", "bear", "rich", "hunter", "fisher", "baker", "page", "love", "faith", "star",
    }
)  # fmt: skip


class TokenLike(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


@dataclass(frozen=True)
class Person:
    kind: str  # "name" or "handle"
    text: str
    start: int  # span in the original text
    end: int
    first: int = -1  # token range (names only)
    last: int = -1


def _read(path: Path) -> dict[str, int]:
    """name → best rank in a supported country ("name<TAB>rank" lines; no rank: 1)."""
    if not path.exists():
        return {}
    out: dict[str, int] = {}
    for line in path.read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        name, _, rank = line.strip().partition("\t")
        out[name] = int(rank) if rank.isdigit() else 1
    return out


@dataclass(frozen=True)
class NameTables:
    first: frozenset[str]
    last: frozenset[str]
    popular_first: frozenset[str]  # trusted in lowercase text too
    popular_last: frozenset[str]


@lru_cache(maxsize=1)
def name_tables() -> NameTables:
    first = _read(FIRST_FILE) | _read(EXTRA_FIRST_FILE)
    last = _read(LAST_FILE)
    return NameTables(
        frozenset(first),
        frozenset(last),
        frozenset(n for n, r in first.items() if r <= POPULAR_RANK),
        frozenset(n for n, r in last.items() if r <= POPULAR_RANK),
    )


def find_handles(text: str, start: int = 0, end: int | None = None) -> list[Person]:
    """@handles in text[start:end] (a window of a long text)."""
    stop = len(text) if end is None else end
    return [Person("handle", m.group(0), m.start(), m.end()) for m in _HANDLE.finditer(text, start, stop)]


def _capitalised(text: str, tok: TokenLike) -> bool:
    raw = text[tok.start : tok.end]
    return raw[:1].isupper() and not raw.isupper()


def _title_case(text: str) -> bool:
    """Every word capitalised ("Sexy Rose Gold Dress"): capitals then say nothing about names.
    (German capitalises every noun but not "von", "in", "mit", so it is not caught here.)"""
    words = [w for w in text.split() if w[:1].isalpha()]
    return len(words) >= 3 and all(w[:1].isupper() for w in words)


def _attributed(tokens: Sequence[TokenLike], i: int, end: int) -> bool:
    """The name at tokens[i:end] is credited for a style, before or right after it."""
    if any(tokens[j].text in ATTRIBUTION for j in range(max(0, i - _ATTRIBUTION_REACH), i)):
        return True
    return any(tokens[j].text in _AFTER for j in range(end, min(len(tokens), end + 2)))


def find_names(text: str, tokens: Sequence[TokenLike], vocabulary: frozenset[str]) -> list[Person]:
    """Full personal names: a first name then one or two last names."""
    tables = name_tables()
    first_names, last_names = tables.first, tables.last
    if not first_names:
        return []
    out: list[Person] = []
    i = 0
    n = len(tokens)
    title: bool | None = None  # worked out once, for the tokens' own stretch of text
    while i < n - 1:
        a, b = tokens[i], tokens[i + 1]
        if (
            a.text in first_names
            and b.text in last_names
            and text[a.end : b.start].isspace()  # "liam brazier, peter" is no "brazier peter"
            and a.text not in vocabulary
            and b.text not in vocabulary
            and len(a.text) >= 2
            and len(b.text) >= 2
            and a.text.isalpha()
            and b.text.isalpha()
        ):
            cased = _capitalised(text, a) and _capitalised(text, b)
            common = common_words()
            plain_words = (
                a.text in common
                or b.text in common
                or a.text in WORD_NAMES
                or b.text in WORD_NAMES
                or a.text not in tables.popular_first
                or b.text not in tables.popular_last
            )
            if cased and title is None:
                title = _title_case(text[tokens[0].start : tokens[-1].end])
            if ((cased and not title) or not plain_words) and not _attributed(tokens, i, i + 2):
                end = i + 2
                nxt = tokens[end] if end < n else None
                if nxt and nxt.text in last_names and nxt.text not in vocabulary and text[b.end : nxt.start].isspace():
                    end += 1  # a second surname ("garcia lopez")
                out.append(Person("name", text[a.start : tokens[end - 1].end], a.start, tokens[end - 1].end, i, end))
                i = end
                continue
        i += 1
    return out
