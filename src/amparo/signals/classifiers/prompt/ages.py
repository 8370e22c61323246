"""Ages in prompts: numerals and number words in nine languages, with their units.

`spell_number(lang, n)` writes 0..99 in words (every accepted spelling), and the
parser is the reverse table of those spellings, so the two always agree.
`find_ages(tokens, ...)` returns the ages stated in a token list; an adult age is
just a number ≥ 18 and never a minor signal.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import yaml

from .normalise import LEXICON_DIR, YAML_LOADER, tokenise_term

LANGUAGES = ("es", "ca", "gl", "eu", "en", "fr", "pt", "it", "de")
# Languages with a hard-line lexicon only (minor, sexual, undressing, image, ages; numbers 0-99)
# but no shipped data rows, names list or model training: see docs/prompt-gate.md, "Languages".
HARD_LINE_LANGUAGES = ("nl", "pl", "cs", "ru", "tr")
LEXICON_LANGUAGES = LANGUAGES + HARD_LINE_LANGUAGES
ADULT_AGE = 18
MAX_AGE = 120
# Words after which a bare number (numeral or words) is an age: "aged twelve", "Alter 12".
AGE_PREFIXES = frozenset({"aged", "age", "edad", "eta", "idade", "edat", "alter", "adina"})
NUMBERS_FILE = "numbers.yaml"
AGES_FILE = "ages.yaml"


@cache
def _read(name: str) -> dict[str, Any]:
    text = (LEXICON_DIR / name).read_text("utf-8")
    data: dict[str, Any] = yaml.load(text, Loader=YAML_LOADER)
    return data


def _alternatives(entry: str) -> list[str]:
    return [a.strip() for a in entry.split("|")]


def _compose(lang: str, table: dict[str, Any], n: int) -> list[str]:
    units = [_alternatives(u) for u in table["units"]]
    tens = [_alternatives(t) for t in table["tens"]]
    if n < 20:
        return units[n]
    t, u = divmod(n, 10)
    ten = tens[t - 2]
    if lang == "eu":  # vigesimal: 20 hogei, 40 berrogei, 60 hirurogei, 80 laurogei
        base = ("hogei", "berrogei", "hirurogei", "laurogei")[n // 20 - 1]
        rest = n % 20
        return [base] if rest == 0 else [f"{base}ta {w}" for w in units[rest]]
    if u == 0:
        return ten
    if lang == "en":
        return [f"{x}{sep}{y}" for x in ten for y in units[u] for sep in ("-", " ", "")]
    if lang == "es":
        if t == 2:
            return _alternatives(table["twenties"][u])
        return [f"{x} y {y}" for x in ten for y in units[u]]
    if lang == "ca":
        sep = "-i-" if t == 2 else "-"
        return [f"{x}{sep}{y}" for x in ten for y in units[u]]
    if lang in ("gl", "pt"):
        return [f"{x} e {y}" for x in ten for y in units[u]]
    if lang == "it":
        out = []
        for x in ten:
            for y in units[u]:
                stem = x[:-1] if y[0] in "aeiou" else x
                out += [stem + y, f"{x} {y}"]
        return out
    if lang == "de":
        firsts = ["ein"] if u == 1 else units[u]
        return [f"{y}und{x}" for x in ten for y in firsts] + [f"{y} und {x}" for x in ten for y in firsts]
    if lang == "nl":  # eenentwintig, tweeëntwintig (written "tweeentwintig" too)
        return [f"{y}{'ën' if y.endswith('e') else 'en'}{x}" for x in ten for y in units[u]] + [
            f"{y}en{x}" for x in ten for y in units[u]
        ]
    if lang in ("pl", "ru", "tr"):
        return [f"{x} {y}" for x in ten for y in units[u]]
    if lang == "cs":  # dvacet jedna, or jednadvacet
        return [f"{x} {y}" for x in ten for y in units[u]] + [f"{y}a{x}" for x in ten for y in units[u]]
    if lang == "fr":
        out = []
        if t in (7, 9):  # soixante-dix-sept, quatre-vingt-dix-sept
            head = "soixante" if t == 7 else "quatre vingt"
            joiner = " et " if (t == 7 and u == 1) else " "
            out += [f"{head}{joiner}{w}" for w in units[10 + u]]
            other = "septante" if t == 7 else "nonante"
            out += [f"{other} {'et ' if u == 1 else ''}{w}" for w in units[u]]
        else:
            for x in ten:
                for y in units[u]:
                    out.append(f"{x} et {y}" if u == 1 and t != 8 else f"{x} {y}")
                    out.append(f"{x} {y}")
        return out
    raise ValueError(f"unsupported language {lang!r}")


@cache
def spell_number(lang: str, n: int) -> tuple[str, ...]:
    """Every accepted spelling of n (0..99) in lang, the first being the usual one."""
    if not 0 <= n <= 99:
        raise ValueError("number words cover 0..99")
    table = _read(NUMBERS_FILE)[lang]
    return tuple(dict.fromkeys(_compose(lang, table, n)))


@dataclass(frozen=True)
class NumberTables:
    phrases: dict[tuple[str, ...], tuple[int, frozenset[str]]]  # tokens → (value, languages)
    max_len: int
    restricted: dict[str, frozenset[str]]  # word → the languages it may count in
    stems: dict[str, int]  # Italian "-enne" stems and German "-jährig" prefixes


@lru_cache(maxsize=1)
def number_tables() -> NumberTables:
    raw = _read(NUMBERS_FILE)
    phrases: dict[tuple[str, ...], tuple[int, set[str]]] = {}
    restricted: dict[str, set[str]] = {}
    stems: dict[str, int] = {}
    for lang in LEXICON_LANGUAGES:
        for word in raw[lang].get("restricted", []):
            restricted.setdefault(word, set()).add(lang)
        for n in range(100):
            for spelling in spell_number(lang, n):
                toks = tuple(tokenise_term(spelling))
                joined = ("".join(toks),)
                for key in {toks, joined}:
                    value, langs = phrases.setdefault(key, (n, set()))
                    if value == n:
                        langs.add(lang)
                if lang == "it" and len(toks) == 1:
                    stems.setdefault(toks[0][:-1], n)  # dodici → dodic+enne
                if lang == "de" and len(toks) == 1:
                    stems.setdefault(toks[0], n)
    # a word one language restricts ("vier" in Dutch) still counts in a language whose own
    # number it is and that does not restrict it (German "vier")
    for word, allowed in restricted.items():
        hit = phrases.get((word,))
        if hit is not None:
            allowed |= {lang for lang in hit[1] if word not in raw[lang].get("restricted", [])}
    stems.update({k: int(v) for k, v in _read(AGES_FILE).get("compound_stems", {}).items()})
    return NumberTables(
        phrases={k: (v, frozenset(ls)) for k, (v, ls) in phrases.items()},
        max_len=max(len(k) for k in phrases),
        restricted={k: frozenset(v) for k, v in restricted.items()},
        stems=stems,
    )


@dataclass(frozen=True)
class AgeWords:
    strong_units: frozenset[tuple[str, ...]]
    weak_units: frozenset[tuple[str, ...]]
    cue_after: frozenset[tuple[str, ...]]
    cue_before: frozenset[str]
    suffix_units: tuple[str, ...]
    not_age_after: frozenset[str]
    not_age_before: frozenset[str]
    unit_words: frozenset[str]  # single tokens that may follow digits ("12yo")


@lru_cache(maxsize=1)
def age_words() -> AgeWords:
    raw = _read(AGES_FILE)

    def phrases(key: str) -> frozenset[tuple[str, ...]]:
        return frozenset(tuple(tokenise_term(p)) for p in raw[key])

    strong, weak = phrases("strong_units"), phrases("weak_units")
    return AgeWords(
        strong_units=strong,
        weak_units=weak,
        cue_after=phrases("cue_after"),
        cue_before=frozenset(" ".join(tokenise_term(p)) for p in raw["cue_before"]),
        suffix_units=tuple(sorted(raw["suffix_units"], key=len, reverse=True)),
        not_age_after=frozenset(raw["not_age_after"]),
        not_age_before=frozenset(raw["not_age_before"]),
        unit_words=frozenset(p[0] for p in strong | weak if len(p) == 1)
        | frozenset({"yo", "yr", "yrs", "j", "yrold", "yearold"}),
    )


@lru_cache(maxsize=1)
def number_starts() -> frozenset[str]:
    """First words of every spelt number: any other word starts none (a fast skip)."""
    return frozenset(key[0] for key in number_tables().phrases)


@dataclass(frozen=True)
class FoundNumber:
    value: int
    start: int
    end: int  # exclusive


def read_number(tokens: Sequence[str], i: int, languages: Collection[str] = ()) -> FoundNumber | None:
    """The number (numeral or words) starting at tokens[i], longest spelling first."""
    tok = tokens[i]
    if tok.isdigit():
        return FoundNumber(int(tok), i, i + 1) if len(tok) <= 3 else None
    tables = number_tables()
    if tok not in number_starts():
        return None
    for size in range(min(tables.max_len, len(tokens) - i), 0, -1):
        key = tuple(tokens[i : i + size])
        hit = tables.phrases.get(key)
        if hit is None:
            continue
        value, langs = hit
        if size == 1:
            allowed = tables.restricted.get(key[0])
            if allowed is not None and not (allowed & set(languages)):
                continue
        return FoundNumber(value, i, i + size)
    return None


def _match_at(tokens: Sequence[str], i: int, phrases: frozenset[tuple[str, ...]]) -> int:
    """Length of the longest phrase starting at tokens[i] (0 if none)."""
    best = 0
    for size in (4, 3, 2, 1):
        if i + size <= len(tokens) and tuple(tokens[i : i + size]) in phrases:
            best = size
            break
    return best


@lru_cache(maxsize=65536)  # words repeat in long texts
def _suffix_age(token: str) -> int | None:
    """One-token ages: "zwolfjahrige", "dodicenne", "quindicenne"."""
    words = age_words()
    tables = number_tables()
    for suffix in words.suffix_units:
        if token.endswith(suffix) and len(token) > len(suffix):
            stem = token[: -len(suffix)]
            if stem.isdigit() and len(stem) <= 2:
                return int(stem)
            if stem in tables.stems:
                return tables.stems[stem]
            hit = tables.phrases.get((stem,))
            if hit is not None:
                return hit[0]
    return None


def find_ages(
    tokens: Sequence[str],
    person_words: Collection[str] = (),
    languages: Collection[str] = (),
) -> list[tuple[int, int, int]]:
    """Ages stated in tokens, as (age, start, end) token spans."""
    words = age_words()
    starts = number_starts()
    found: list[tuple[int, int, int]] = []
    i = 0
    n = len(tokens)
    while i < n:
        tok = tokens[i]
        suffix = _suffix_age(tok) if len(tok) > 5 else None
        if suffix is not None and suffix <= MAX_AGE:
            found.append((suffix, i, i + 1))
            i += 1
            continue
        if tok not in starts and not tok.isdigit():  # no number starts here (most words)
            i += 1
            continue
        num = read_number(tokens, i, languages)
        pair = tokens[i] + tokens[i + 1] if num is not None and i + 1 < n else ""
        if len(pair) == 2 and pair.isdigit():  # "2 0 years old": two digits spaced apart
            num = FoundNumber(int(pair), i, i + 2)
        if num is None or num.value > MAX_AGE:
            i += 1
            continue
        j = num.end
        strong = _match_at(tokens, j, words.strong_units)
        weak = 0 if strong else _match_at(tokens, j, words.weak_units)
        before = tokens[i - 1] if i > 0 else ""
        before2 = " ".join(tokens[i - 2 : i]) if i > 1 else ""
        person_before = any(t in person_words for t in tokens[max(0, i - 3) : i])
        is_age = False
        end = j
        if strong:
            is_age, end = True, j + strong
        elif weak:
            after = _match_at(tokens, j + weak, words.cue_after)
            person_after = j + weak < n and tokens[j + weak] in person_words
            if after or person_after or person_before or before in words.cue_before or (before2 in words.cue_before):
                is_age, end = True, j + weak + after
        elif (before in words.cue_before or before in person_words or person_before) and (
            tokens[i].isdigit() or before in AGE_PREFIXES
        ):
            # "girl, 12" / "aged 12" / "niña de 12": a bare numeral next to a person word
            nxt = tokens[j] if j < n else ""
            counted_people = j < n and nxt in person_words  # "2 girls" is a count, not an age
            if (
                nxt not in words.not_age_after
                and not (before in words.not_age_before and num.value < 10)  # "Model 3", not "model, 15"
                and not counted_people
                and (before in person_words or person_before or before in AGE_PREFIXES)
            ):
                is_age = True
        if is_age:
            found.append((num.value, i, end))
            i = end
        else:
            i = num.end
    return found
