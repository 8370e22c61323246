"""Test-time mutator: the tricks people use to get a request past a word filter.

Each mutation rewrites the words that decide a verdict (minor, sexual and
clothing-removal terms found by the rules) and leaves the rest of the prompt
alone, so a variant tests the gate rather than the filler words. Used by the
evaluation (`amparo eval prompts --obfuscate`) and the tests; deterministic
for a given random.Random.
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections.abc import Callable

from .normalise import tokenise
from .rules import apply_rules
from .words import is_word

MUTATIONS = (
    "spacing",
    "leetspeak",
    "homoglyphs",
    "zero_width",
    "accents",
    "repeats",
    "emoji",
    "misspelling",
    "language_mix",
)
_TARGETS = ("minor", "sexual", "nudify", "revealing", "small_body", "school")
_LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7"}
_HOMOGLYPHS = {
    "a": "а",
    "e": "е",
    "o": "о",
    "p": "р",
    "c": "с",
    "i": "і",
    "x": "х",
    "y": "у",
    "s": "ѕ",
}
_ACCENTS = {"a": "á", "e": "é", "i": "í", "o": "ô", "u": "ü", "n": "ñ", "c": "ç"}
_EMOJI = {"minor": "🧒", "school": "🎒", "revealing": "👙", "sexual": "🔞"}
# Words from other supported languages that a mixed-language request might borrow.
_MIX = {
    "minor": ["child", "niña", "enfant", "bambina", "criança", "haurra", "kleines Mädchen", "nena"],
    "sexual": ["nude", "desnuda", "à poil", "nackt", "nuda", "pelada", "biluzik", "despullada"],
    "nudify": ["undress", "desnúdala", "déshabille", "entkleide", "spogliala", "despe"],
    "revealing": ["bikini", "lingerie", "ropa interior", "Unterwäsche"],
    "school": ["school uniform", "uniforme escolar", "Schuluniform"],
    "small_body": ["childlike body", "cuerpo infantil", "corps d'enfant"],
}
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?", re.UNICODE)


def _target_words(text: str) -> dict[str, str]:
    """Words of text (as written) that the lexicon files under a deciding category."""
    # Words inside a harmless phrase ("sex education") are left alone: changing them
    # would change the meaning, not hide it.
    live = {h.text: h.category for h in apply_rules(text).hits if h.category in _TARGETS}
    found: dict[str, str] = {}
    for m in _WORD.finditer(text):
        word = m.group(0)
        key = " ".join(tokenise(word))
        if key in live:
            found.setdefault(word, live[key])
    return found


def _spacing(word: str, rng: random.Random, _: str) -> str:
    return rng.choice([" ", ".", "-", "*"]).join(word)


def _leet(word: str, rng: random.Random, _: str) -> str:
    return "".join(_LEET.get(c.lower(), c) for c in word)


def _homoglyphs(word: str, rng: random.Random, _: str) -> str:
    return "".join(_HOMOGLYPHS.get(c, c) for c in word)


def _zero_width(word: str, rng: random.Random, _: str) -> str:
    return rng.choice(["\u200b", "\u200c", "\u2060", "\u00ad"]).join(word)


def _accents(word: str, rng: random.Random, _: str) -> str:
    plain = "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))
    return "".join(_ACCENTS.get(c, c) if rng.random() < 0.6 else c for c in plain)


def _repeats(word: str, rng: random.Random, _: str) -> str:
    vowels = [i for i, c in enumerate(word) if c.lower() in "aeiouy"]
    i = rng.choice(vowels) if vowels else len(word) - 1
    return word[:i] + word[i] * rng.randint(3, 5) + word[i + 1 :]


def _emoji(word: str, rng: random.Random, category: str) -> str:
    return _EMOJI.get(category) or _repeats(word, rng, category)


def _misspelling(word: str, rng: random.Random, category: str) -> str:
    """One letter swapped, dropped or doubled. A typo that spells another real word
    ("erótica" → "eróica", Italian for heroic) is no obfuscation: no reader, and no gate
    that never invents, can tell it from that word, so such a typo is drawn again."""
    if len(word) < 5:
        return _repeats(word, rng, category)
    for _ in range(8):
        i = rng.randrange(1, len(word) - 2)
        kind = rng.choice(["swap", "drop", "double"])
        if kind == "swap":
            out = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        elif kind == "drop":
            out = word[:i] + word[i + 1 :]
        else:
            out = word[:i] + word[i] + word[i:]
        if not is_word("".join(tokenise(out))):
            return out
    return _repeats(word, rng, category)


def _language_mix(word: str, rng: random.Random, category: str) -> str:
    return rng.choice(_MIX.get(category, [word]))


_FUNCS: dict[str, Callable[[str, random.Random, str], str]] = {
    "spacing": _spacing,
    "leetspeak": _leet,
    "homoglyphs": _homoglyphs,
    "zero_width": _zero_width,
    "accents": _accents,
    "repeats": _repeats,
    "emoji": _emoji,
    "misspelling": _misspelling,
    "language_mix": _language_mix,
}


def obfuscate(text: str, mutation: str, rng: random.Random) -> str:
    """Apply one kind of mutation to every deciding word of text."""
    if mutation not in _FUNCS:
        raise ValueError(f"unknown mutation {mutation!r}; known: {', '.join(MUTATIONS)}")
    targets = _target_words(text)
    if not targets:
        return text
    func = _FUNCS[mutation]

    def swap(m: re.Match[str]) -> str:
        word = m.group(0)
        category = targets.get(word)
        return func(word, rng, category) if category else word

    return _WORD.sub(swap, text)


def variants(text: str, seed: int = 0) -> dict[str, str]:
    """One variant of text per mutation kind."""
    rng = random.Random(f"{seed}:{text}")
    return {m: obfuscate(text, m, rng) for m in MUTATIONS}
