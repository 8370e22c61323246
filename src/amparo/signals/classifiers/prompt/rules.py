"""Transparent rules: per-language lexicons matched on normalised tokens.

Each language file in lexicon/ lists words and phrases by category (minor terms,
school context, sexual terms, clothing-removal verbs, ...). All languages are
matched together, so a prompt that mixes languages is still read; words that
mean something harmless in another supported language ("kind", "college") are
listed under `only_if_lang` and count only when their language is detected.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, NamedTuple

import yaml

from .ages import ADULT_AGE, LANGUAGES, find_ages, number_tables
from .names import Person, find_handles, find_names
from .normalise import LEXICON_DIR, YAML_LOADER, deleet, skeleton, tokenise, tokenise_spans
from .words import corrections_enabled, is_word

CATEGORIES = (
    "minor",
    "minor_weak",
    "school",
    "small_body",
    "sexual",
    "revealing",
    "clothing",
    "remove",
    "wear",
    "nudify",
    "adult",
    "pronoun",
    "image_ref",
    "real_person",
    "neutral",
    "person",
    "edit",
    "nudify_head",
    "nudify_tail",
)
MAX_PHRASE = 7
# The model is consulted only when one side of a hard line is present (a minor cue,
# a sexual or clothing cue, or a reference to a real person / the input image).
MODEL_CATEGORIES = frozenset(
    {
        "minor",
        "school",
        "small_body",
        "sexual",
        "revealing",
        "remove",
        "wear",
        "nudify",
        "image_ref",
        "real_person",
    }
)
FUZZY_MIN_LEN = 5
# Endings that inflect a word without changing what it names (plural, gender, case).
INFLECTIONS = frozenset("senr")
# Categories a misspelling may be corrected into: the ones that decide a refusal.
FUZZY_CATEGORIES = ("minor", "sexual", "nudify", "small_body", "school", "revealing")
# Tokens between a removal verb and a garment ("take her red dress off").
NEAR = 10
PARTICLES = frozenset({"weg", "runter"})
ARTICLES_AFTER_AUS = frozenset(
    {"der", "die", "das", "dem", "den", "des", "einer", "einem", "einen", "eine", "ein", "meiner", "meinem", "seiner",
     "seinem", "ihrer", "ihrem", "allen", "aller"}
)  # fmt: skip

LABEL_CSAM = "csam_request"
LABEL_NUDIFY = "nudify_request"
LABEL_DEEPFAKE = "sexual_deepfake_request"
LABEL_SEXUAL = "sexual_adult_request"
LABEL_MINOR = "minor_nonsexual"
LABEL_BENIGN = "benign"


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
    for lang in LANGUAGES:
        raw = _load_language(lang)
        sexual_prefixes += [(p, lang) for p in raw.get("sexual_prefix", [])]
        minor_prefixes += [(p, lang) for p in raw.get("minor_prefix", [])]
        restricted = {" ".join(tokenise(t)) for t in raw.get("only_if_lang", [])}
        for word in raw["stopwords"]:
            for tok in tokenise(word):
                stopwords[tok].add(lang)
        for wrong, right in (raw.get("misspellings") or {}).items():
            key = "".join(tokenise(str(wrong)))
            if key and key != " ".join(tokenise(str(right))):
                misspellings[key] = tuple(tokenise(str(right)))
        for category in CATEGORIES:
            for term in raw.get(category, []):
                toks = tuple(tokenise(str(term)))
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
    name_like = {"adult", "person", "real_person", "image_ref"}
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
        skeletons=skeletons,
        fuzzy_terms=frozenset(skeletons.values()),
        deletions=deletions,
        person_words=frozenset(person),
        sexual_prefixes=tuple(sexual_prefixes),
        minor_prefixes=tuple(minor_prefixes),
    )


def language_counts(tokens: Sequence[str], lexicon: Lexicon) -> Counter[str]:
    stopwords = lexicon.stopwords
    counts: Counter[str] = Counter()
    for tok in tokens:
        langs = stopwords.get(tok)
        if langs:
            counts.update(langs)
    return counts


def detect_languages(tokens: Sequence[str], lexicon: Lexicon, counts: Counter[str] | None = None) -> tuple[str, ...]:
    """Supported languages whose function words appear, most likely first."""
    counts = language_counts(tokens, lexicon) if counts is None else counts
    if not counts:
        return ()
    best = max(counts.values())
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], LANGUAGES.index(kv[0])))
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


def _candidate(token: str, lexicon: Lexicon) -> tuple[str, str]:
    """The lexicon term an unknown token may misspell, and how: "leet" (digits read as
    letters), "repeat" (letters doubled), "fuzzy" (a letter dropped, added or swapped, or a
    doubled letter moved). ("", "") when none."""
    if token.isdigit():
        # "350" is no age: it may be leetspeak for a deciding word ("eso")
        if len(token) >= 3 and int(token) > 120:
            letters = deleet(token)
            if letters in lexicon.fuzzy_terms:
                return letters, "leet"
        return "", ""
    if token in lexicon.vocabulary or len(token) < 3:
        return "", ""
    sk = skeleton(token)
    if sk in lexicon.skeletons and (sk != token or len(token) >= 4):  # "nuu" → "nu"
        term = lexicon.skeletons[sk]
        return term, ("repeat" if skeleton(term) == term else "fuzzy")
    if len(token) < 4:
        return "", ""
    if token in lexicon.deletions and lexicon.deletions[token][0] == token[0]:  # a letter dropped
        return lexicon.deletions[token], "fuzzy"
    if len(token) < FUZZY_MIN_LEN:
        return "", ""
    for d in _deletes(token):  # a letter added or two letters swapped
        if d in lexicon.fuzzy_terms and d[0] == token[0]:
            return d, "fuzzy"
        if d in lexicon.deletions and lexicon.deletions[d][0] == token[0]:
            cand = lexicon.deletions[d]
            if sorted(cand) == sorted(token):
                return cand, "fuzzy"
    return "", ""


def _inflects(token: str, term: str) -> bool:
    """`token` is `term` with one inflection letter added ("erotisches" ← "erotische",
    "kinder" ← "kind"): correcting it names the same thing, so it invents nothing."""
    return len(term) >= 4 and len(token) == len(term) + 1 and token.startswith(term) and token[-1] in INFLECTIONS


def _correct(token: str, lexicon: Lexicon, *, obfuscated: bool = False) -> str:
    """Map an unknown token to the lexicon term it misspells, unless the token is itself a
    word of a supported language ("shot" never becomes "shota", "nice" never "niece").
    `obfuscated`: the token had a run of 3+ letters, so it is no word as written.
    Without the word lists only letter repeats and digit leetspeak are undone."""
    term, how = _candidate(token, lexicon)
    if not term:
        return token
    if not obfuscated and is_word(token) and not _inflects(token, term):
        return token
    if how == "fuzzy" and not corrections_enabled():
        return token
    return term


MAX_PARTS = 4


def _segment(token: str, lexicon: Lexicon) -> list[str] | None:
    """Split letters that were spaced out together ("atoddler", "nudepic") into words.

    Known words cost 1, unknown stretches (3+ letters) cost 3; the cheapest split
    wins, and it must contain at least one known word of 4+ letters.
    """
    n = len(token)
    if n > 40:
        return None
    inf = float("inf")
    cost = [inf] * (n + 1)
    back: list[list[str]] = [[] for _ in range(n + 1)]
    cost[0] = 0.0
    for end in range(1, n + 1):
        for start in range(max(0, end - 20), end):
            if cost[start] == inf or len(back[start]) >= MAX_PARTS:
                continue
            part = token[start:end]
            if start == 0 and end == n:
                continue
            if part in lexicon.vocabulary or skeleton(part) in lexicon.skeletons:
                step = 1.0 - 0.02 * min(len(part), 6) ** 2  # longer known words win ties
            elif len(part) >= 3:
                step = 3.0
            else:
                continue
            if cost[start] + step < cost[end]:
                cost[end] = cost[start] + step
                back[end] = [*back[start], part]
    parts = back[n]
    if len(parts) < 2 or not any(len(p) >= 4 and p in lexicon.vocabulary for p in parts):
        return None
    return parts


class CanonicalToken(NamedTuple):  # a tuple: long texts make one per word
    text: str
    start: int  # span in the original prompt
    end: int
    corrected: bool  # a misspelling, leetspeak or fuzzy correction produced this word


# Words repeat (Zipf): their correction is kept per lexicon, so long texts stay fast.
_CANON_CACHE: dict[tuple[int, str, bool], tuple[tuple[str, bool], ...]] = {}
_CANON_CACHE_MAX = 200_000


def _canonical_word(word: str, squeezed: bool, lexicon: Lexicon) -> tuple[tuple[str, bool], ...]:
    """(word, corrected) pairs for one plain token: a known misspelling or a fuzzy correction."""
    key = (id(lexicon), word, squeezed)
    hit = _CANON_CACHE.get(key)
    if hit is not None:
        return hit
    fixed = lexicon.misspellings.get(word)
    if fixed is not None:
        out = tuple((f, True) for f in fixed)
    else:
        corrected = _correct(word, lexicon, obfuscated=squeezed)
        out = ((corrected, corrected != word),)
    if len(_CANON_CACHE) >= _CANON_CACHE_MAX:
        _CANON_CACHE.clear()
    _CANON_CACHE[key] = out
    return out


def canonical_spans(text: str, lexicon: Lexicon | None = None) -> list[CanonicalToken]:
    """Tokens after normalisation, known misspellings and fuzzy correction, with their spans."""
    lexicon = lexicon or load_lexicon()
    out: list[CanonicalToken] = []
    for tok in tokenise_spans(text):
        word = tok.text
        if tok.joined and word not in lexicon.vocabulary:
            parts = _segment(word, lexicon)
            if parts:
                for p in parts:
                    fixed_part = _correct(p, lexicon, obfuscated=True)
                    out.append(CanonicalToken(fixed_part, tok.start, tok.end, tok.changed or fixed_part != p))
                continue
        for w, corrected in _canonical_word(word, tok.squeezed, lexicon):
            out.append(CanonicalToken(w, tok.start, tok.end, tok.changed or corrected))
    return _join_letter_pairs(out, lexicon)


def canonical_tokens(text: str, lexicon: Lexicon | None = None) -> list[str]:
    """Tokens after normalisation, known misspellings and fuzzy correction."""
    return [t.text for t in canonical_spans(text, lexicon)]


def _join_letter_pairs(tokens: list[CanonicalToken], lexicon: Lexicon) -> list[CanonicalToken]:
    """Two spaced letters that spell a deciding term ("n u" → Catalan "nu") become one."""
    out: list[CanonicalToken] = []
    i = 0
    while i < len(tokens):
        pair = tokens[i].text + tokens[i + 1].text if i + 1 < len(tokens) else ""
        if len(pair) == 2 and pair.isalpha() and pair in lexicon.skeletons:
            a, b = tokens[i], tokens[i + 1]
            out.append(CanonicalToken(pair, a.start, b.end, a.corrected or b.corrected))
            i += 2
        else:
            out.append(tokens[i])
            i += 1
    return out


@dataclass(frozen=True)
class Hit:
    category: str
    text: str
    start: int
    end: int
    lang: str


@dataclass(frozen=True)
class Reason:
    kind: str
    text: str  # the matched words, normalised
    detail: str
    start: int  # span in the original prompt (-1 when not located)
    end: int


@dataclass
class RuleResult:
    label: str
    tokens: list[str]
    languages: tuple[str, ...]
    hits: list[Hit]
    ages: list[tuple[int, int, int]]
    minor: bool
    sexual: bool
    nudify: bool
    adult_age: bool
    refers_to_image: bool
    reasons: list[Reason] = field(default_factory=list)
    spans: list[tuple[int, int]] = field(default_factory=list)  # per token, in the original prompt

    @property
    def relevant(self) -> bool:
        """Whether the prompt touches people, bodies or clothing (else no model)."""
        return bool(self.ages) or any(h.category in MODEL_CATEGORIES for h in self.hits)

    def has(self, category: str) -> bool:
        return any(h.category == category for h in self.hits)

    def texts(self, category: str) -> list[str]:
        return [h.text for h in self.hits if h.category == category]


def _find_hits(tokens: Sequence[str], languages: Sequence[str] | None, lexicon: Lexicon) -> list[Hit]:
    raw: list[Hit] = []
    n = len(tokens)
    prefixes = lexicon.prefixes
    for i in range(n):
        key: tuple[str, ...] = ()
        for size in range(1, min(MAX_PHRASE, n - i) + 1):
            key = (*key, tokens[i + size - 1])
            if key not in prefixes:
                break
            entries = lexicon.phrases.get(key)
            if not entries:
                continue
            seen: set[str] = set()
            for e in entries:
                if e.category in seen:
                    continue
                if (
                    e.restricted
                    and languages is not None
                    and e.lang not in languages
                    and not any((not o.restricted) and o.category == e.category for o in entries)
                ):
                    continue
                seen.add(e.category)
                raw.append(Hit(e.category, " ".join(key), i, i + size, e.lang))
    raw += _compound_hits(tokens, raw, lexicon)
    neutral = [(h.start, h.end) for h in raw if h.category == "neutral"]
    if not neutral:
        return raw
    return [h for h in raw if h.category == "neutral" or not any(s <= h.start and h.end <= e for s, e in neutral)]


@lru_cache(maxsize=4)
def _prefix_screen(prefixes: tuple[tuple[str, str], ...]) -> re.Pattern[str]:
    """One pattern for all compound prefixes: most long words hold none (a fast skip)."""
    return re.compile("|".join(re.escape(p) for p, _ in prefixes) or "(?!)")


def _compound_hits(tokens: Sequence[str], found: Sequence[Hit], lexicon: Lexicon) -> list[Hit]:
    """German compounds: "Pornobild" is sexual, "Kinderpornobild" also names a child."""
    covered = {h.start for h in found if h.category == "sexual"}
    out: list[Hit] = []
    screen = _prefix_screen(lexicon.sexual_prefixes)
    for i, tok in enumerate(tokens):
        if i in covered or len(tok) < 7 or not screen.search(tok):
            continue
        for prefix, lang in lexicon.sexual_prefixes:
            inner = tok.find(prefix)
            if inner >= 0 and len(tok) - inner > len(prefix) + 2:
                out.append(Hit("sexual", tok, i, i + 1, lang))
                head = tok[:inner]
                if any(head == p for p, _ in lexicon.minor_prefixes):
                    out.append(Hit("minor", tok, i, i + 1, lang))
                break
    return out


def _near(
    hits: Sequence[Hit], a: str, b: str, apart: Callable[[Hit, Hit], bool] | None = None
) -> tuple[Hit, Hit] | None:
    """A hit of category a and one of b within NEAR tokens (and, given `apart`, in one sentence)."""
    for x in hits:
        if x.category != a:
            continue
        for y in hits:
            if (
                y.category == b
                and abs(y.start - x.start) <= NEAR
                and (y.start >= x.end or x.start >= y.end)
                and (apart is None or not apart(x, y))
            ):
                return x, y
    return None


def _guard_adult_age(hits: list[Hit], ctoks: Sequence[CanonicalToken]) -> list[Hit]:
    """A stated adult age is never overridden by a corrected token: minor cues that exist
    only because a misspelling, leetspeak or fuzzy correction produced them are dropped."""
    minor_cats = ("minor", "school", "small_body")
    return [
        h for h in hits if h.category not in minor_cats or not any(ctoks[i].corrected for i in range(h.start, h.end))
    ]


def apply_rules(text: str, lexicon: Lexicon | None = None) -> RuleResult:
    lexicon = lexicon or load_lexicon()
    return decide(text, canonical_spans(text, lexicon), lexicon)


def decide(text: str, ctoks: Sequence[CanonicalToken], lexicon: Lexicon) -> RuleResult:
    """The rules on canonical tokens of `text` (all of them, or one window of them)."""
    tokens = [t.text for t in ctoks]
    counts = language_counts(tokens, lexicon)
    languages = detect_languages(tokens, lexicon, counts)
    hits = _find_hits(tokens, _strict_languages(tokens, lexicon, counts), lexicon)
    ages = find_ages(tokens, lexicon.person_words, languages)
    reasons: list[Reason] = []
    spans = [(t.start, t.end) for t in ctoks]

    def span(first: int, last: int) -> tuple[int, int]:
        """Original character span of tokens first..last-1."""
        return (spans[first][0], spans[last - 1][1]) if 0 <= first < last <= len(spans) else (-1, -1)

    def add(kind: str, text_: str, detail: str, *hs: Hit) -> None:
        s0, e0 = span(min(h.start for h in hs), max(h.end for h in hs)) if hs else (-1, -1)
        reasons.append(Reason(kind, text_, detail, s0, e0))

    def cat(c: str) -> list[Hit]:
        return [h for h in hits if h.category == c]

    def apart(x: Hit, y: Hit) -> bool:
        """A sentence ends between the two ("... a strip. A counter top")."""
        lo, hi = (x, y) if x.start < y.start else (y, x)
        between = text[spans[lo.end - 1][1] : spans[hi.start][0]]
        return any(c in ".!?;\n" for c in between)

    for age, s, e in ages:
        kind = "minor age" if age < ADULT_AGE else "adult age"
        reasons.append(Reason("age", " ".join(tokens[s:e]), f"{kind} {age}", *span(s, e)))
    minor_ages = [a for a, _, _ in ages if a < ADULT_AGE]
    adult_age = any(a >= ADULT_AGE for a, _, _ in ages)
    if adult_age:
        hits = _guard_adult_age(hits, ctoks)
    for h in cat("minor"):
        add("minor_term", h.text, f"minor term ({h.lang})", h)
    for h in cat("school"):
        add("school_context", h.text, f"school setting ({h.lang})", h)
    for h in cat("small_body"):
        add("minor_term", h.text, f"child-like body ({h.lang})", h)
    minor = bool(minor_ages or cat("minor") or cat("school") or cat("small_body"))

    sexual_hits = cat("sexual")
    for h in sexual_hits:
        add("sexual_term", h.text, f"sexual or nudity term ({h.lang})", h)
    sexual = bool(sexual_hits)

    pictured = cat("image_ref")
    image_ref = bool(pictured or cat("real_person"))
    people: list[Person] = find_names(text, ctoks, lexicon.not_names)
    if ctoks:
        people += find_handles(text, ctoks[0].start, ctoks[-1].end)
    nudify_reasons: list[tuple[str, str, tuple[Hit, ...]]] = [
        (h.text, "clothing removal or nudify verb", (h,)) for h in cat("nudify")
    ]

    def loose_particle(x: Hit, y: Hit) -> bool:
        """German "weg"/"runter" remove a garment only right after it ("Kleid weg", "Hose runter"),
        not "Kleid auf einem … Weg" (a path) or "Shirt springt rauf und runter"."""
        return apart(x, y) or (x.text in PARTICLES and not 0 <= x.start - y.end <= 1)

    pair = _near(hits, "remove", "clothing", loose_particle)
    if pair:
        nudify_reasons.append((f"{pair[0].text} … {pair[1].text}", "removes clothing", pair))
    pair = _near(hits, "wear", "revealing", apart)
    if pair:
        nudify_reasons.append((f"{pair[0].text} … {pair[1].text}", "puts in revealing clothing", pair))
    if pictured and cat("revealing"):
        h = cat("revealing")[0]
        nudify_reasons.append((h.text, "revealing clothing on the person in the image", (h,)))
    if pictured and sexual:
        h = sexual_hits[0]
        nudify_reasons.append((h.text, "sexualises a real person or the input image", (h,)))
    pair = _near(hits, "nudify_head", "nudify_tail", apart)
    if pair and pair[1].end < len(tokens) and tokens[pair[1].end] in ARTICLES_AFTER_AUS:
        pair = None  # "zieht etwas aus einer Tasche": "aus" is a preposition here
    if pair and pair[1].start > pair[0].start:
        nudify_reasons.append((f"{pair[0].text} … {pair[1].text}", "separable undress verb", pair))
    pair = _near(hits, "edit", "sexual", apart)
    if pair and (image_ref or cat("pronoun")):
        nudify_reasons.append(
            (f"{pair[0].text} … {pair[1].text}", "makes the person in the image nude or sexual", pair)
        )
    for t, d, hs in nudify_reasons:
        add("nudify_term", t, d, *hs)
    nudify = bool(nudify_reasons)
    # a sexual, nude or revealing request about an identifiable real person: named, @handle,
    # or described ("my classmate", "the girl from my gym")
    for p in people:
        if p.kind == "name":
            reasons.append(Reason("real_person", " ".join(tokens[p.first : p.last]), "a named person", p.start, p.end))
        else:
            reasons.append(Reason("real_person", p.text.lower(), "an @handle", p.start, p.end))
    for h in cat("real_person"):
        add("real_person", h.text, f"a described real person ({h.lang})", h)
    deepfake = bool(people or cat("real_person")) and bool(sexual_hits or cat("revealing"))
    if deepfake:
        h = (sexual_hits or cat("revealing"))[0]
        add("deepfake_term", h.text, "sexual, nude or revealing depiction of an identifiable real person", h)
    refers = image_ref or bool(people) or bool(cat("pronoun")) or bool(cat("nudify"))

    if minor and (sexual or nudify or deepfake):
        label = LABEL_CSAM
    elif nudify:
        label = LABEL_NUDIFY
    elif deepfake:
        label = LABEL_DEEPFAKE
    elif sexual:
        label = LABEL_SEXUAL
    elif minor:
        label = LABEL_MINOR
    else:
        label = LABEL_BENIGN
    return RuleResult(
        label=label,
        tokens=tokens,
        languages=languages,
        hits=hits,
        ages=ages,
        minor=minor,
        sexual=sexual,
        nudify=nudify,
        adult_age=adult_age,
        refers_to_image=refers,
        reasons=reasons,
        spans=spans,
    )
