"""Transparent rules: per-language lexicons matched on normalised tokens.

All languages are matched together, so a prompt that mixes languages is still read;
words that mean something harmless in another supported language ("kind", "college")
count only when their language is detected. Lexicons are in lexicons.py, spelling
correction in correct.py; this module finds the cues and decides the label.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import overload

from .ages import ADULT_AGE, find_ages
from .contexts import PERSON_CUES, adult_advice, discussion_of_abuse, everyday_infant, negated
from .correct import CanonicalToken, canonical_spans, canonical_tokens
from .lexicons import (
    CATEGORIES,
    MAX_PHRASE,
    Lexicon,
    _strict_languages,
    detect_languages,
    language_counts,
    load_lexicon,
)
from .names import Person, find_handles, find_names

__all__ = ["CATEGORIES", "Lexicon", "canonical_spans", "canonical_tokens", "load_lexicon"]

# The model is consulted only when one side of a hard line is present (a minor cue,
# a sexual or clothing cue, or a reference to a real person / the input image).
MODEL_CATEGORIES = frozenset(
    {
        "minor",
        "school",
        "hairstyle",
        "small_body",
        "sexual",
        "revealing",
        "remove",
        "wear",
        "nudify",
        "xray",
        "image_ref",
        "real_person",
        "body",
    }
)
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


class TokenSpans(Sequence[tuple[int, int]]):
    """(start, end) in the original prompt of each canonical token, read on demand (a long
    text's windows would otherwise each copy one pair per token)."""

    def __init__(self, ctoks: Sequence[CanonicalToken]) -> None:
        self._ctoks = ctoks

    def __len__(self) -> int:
        return len(self._ctoks)

    @overload
    def __getitem__(self, i: int) -> tuple[int, int]: ...
    @overload
    def __getitem__(self, i: slice) -> list[tuple[int, int]]: ...
    def __getitem__(self, i: int | slice) -> tuple[int, int] | list[tuple[int, int]]:
        if isinstance(i, slice):
            return [(t.start, t.end) for t in self._ctoks[i]]
        t = self._ctoks[i]
        return (t.start, t.end)


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
    everyday_caption: bool = False  # an infant's everyday nudity described, not requested
    discussion: bool = False  # abuse or sex education discussed, or adult sexual-health advice asked: no request
    spans: Sequence[tuple[int, int]] = field(default_factory=list)  # per token, in the original prompt

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
    firsts = lexicon.first_words
    for i in [i for i, tok in enumerate(tokens) if tok in firsts]:
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
    keep = ("neutral", "topic", "inform")  # "sex education" is neutral and still a subject
    return [h for h in raw if h.category in keep or not any(s <= h.start and h.end <= e for s, e in neutral)]


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
            # a word before it ("kinder", "amateur"), or none; not one stray letter
            # (Polish "oporności", resistance, holds "porno")
            if inner >= 0 and len(tok) - inner > len(prefix) + 2 and (inner == 0 or inner >= 3):
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
    minor_cats = ("minor", "school", "hairstyle", "small_body")
    return [
        h for h in hits if h.category not in minor_cats or not any(ctoks[i].corrected for i in range(h.start, h.end))
    ]


def _adult_hairstyle(hits: list[Hit], minor_ages: Sequence[int]) -> list[Hit]:
    """A childlike hairstyle says nothing of age once the only people named are adults ("a
    woman with pigtails", "nude woman with pigtails"): the cue is dropped. With a minor word,
    a minor age, a girl/boy or a child-like body it stays."""
    if minor_ages or not any(h.category == "adult" for h in hits):
        return hits
    if any(h.category in ("minor", "minor_weak", "small_body") for h in hits):
        return hits
    return [h for h in hits if h.category != "hairstyle"]


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
    spans = TokenSpans(ctoks)

    def span(first: int, last: int) -> tuple[int, int]:
        """Original character span of tokens first..last-1."""
        return (spans[first][0], spans[last - 1][1]) if 0 <= first < last <= len(spans) else (-1, -1)

    def add(kind: str, text_: str, detail: str, *hs: Hit) -> None:
        s0, e0 = span(min(h.start for h in hs), max(h.end for h in hs)) if hs else (-1, -1)
        reasons.append(Reason(kind, text_, detail, s0, e0))

    def cat(c: str) -> list[Hit]:
        return [h for h in hits if h.category == c]

    def apart(x: Hit, y: Hit, stops: str = ".!?;\n") -> bool:
        """A sentence ends between the two ("... a strip. A counter top")."""
        lo, hi = (x, y) if x.start < y.start else (y, x)
        between = text[spans[lo.end - 1][1] : spans[hi.start][0]]
        return any(c in stops for c in between)

    def clause_apart(x: Hit, y: Hit) -> bool:
        """A comma or colon also ends a negation's reach: image prompts list tags with commas."""
        return apart(x, y, ".!?;:,\n")

    for age, s, e in ages:
        kind = "minor age" if age < ADULT_AGE else "adult age"
        reasons.append(Reason("age", " ".join(tokens[s:e]), f"{kind} {age}", *span(s, e)))
    minor_ages = [a for a, _, _ in ages if a < ADULT_AGE]
    adult_age = any(a >= ADULT_AGE for a, _, _ in ages)
    if adult_age:
        hits = _guard_adult_age(hits, ctoks)
    hits = _adult_hairstyle(hits, minor_ages)
    for h in cat("minor"):
        add("minor_term", h.text, f"minor term ({h.lang})", h)
    for h in cat("school"):
        add("school_context", h.text, f"school setting ({h.lang})", h)
    for h in cat("hairstyle"):
        add("school_context", h.text, f"childlike hairstyle ({h.lang})", h)
    for h in cat("small_body"):
        add("minor_term", h.text, f"child-like body ({h.lang})", h)
    minor = bool(minor_ages or cat("minor") or cat("school") or cat("hairstyle") or cat("small_body"))

    people: list[Person] = find_names(text, ctoks, lexicon.not_names)
    if ctoks:
        people += find_handles(text, ctoks[0].start, ctoks[-1].end)
    sexual_hits = cat("sexual")
    # sexual violence ("raped", "incest") is sexual when done to someone: a person, age, name or
    # pronoun is named; alone it is a subject or a metaphor ("a debate about rape", "raping the land")
    if ages or people or any(h.category in PERSON_CUES for h in hits):
        sexual_hits = sexual_hits + cat("sexual_violence")
    # explicit body parts and masturbation are sexual, except with a minor in a care or medical
    # question ("my toddler's penis is red, should I see a doctor", "sore nipples while breastfeeding
    # my baby") that asks for no image and has no other sexual word
    body = cat("body")
    care = bool(cat("care")) and not (sexual_hits or cat("request") or cat("image_ref"))
    if body and not (minor and care):
        sexual_hits = sexual_hits + body
    sexual_hits = [h for h in sexual_hits if not negated(h, hits, clause_apart)]
    discussion = discussion_of_abuse(hits, sexual_hits)
    if discussion:
        # the sexual words only name abuse, exploitation or sex education as a subject, in a
        # question or text about recognising, preventing, reporting, teaching or the law
        h = cat("topic")[0]
        add("discussion", h.text, f"names sexual abuse or sex education as a subject ({h.lang})", h)
        sexual_hits = []
    elif adult_advice(hits, minor, bool(people)):
        # a question about adults' own sexual health or relationships asks for advice, not content
        discussion = True
        h = cat("wellbeing")[0]
        add("discussion", h.text, f"asks for advice on adult sexual health or relationships ({h.lang})", h)
        sexual_hits = []
    for h in sexual_hits:
        add("sexual_term", h.text, f"sexual or nudity term ({h.lang})", h)
    sexual = bool(sexual_hits)

    pictured = cat("image_ref")
    image_ref = bool(pictured or cat("real_person"))
    nudify_reasons: list[tuple[str, str, tuple[Hit, ...]]] = [
        (h.text, "clothing removal or nudify verb", (h,)) for h in cat("nudify")
    ]
    # x-ray words undress only when aimed at clothes, a person or the image ("xray her
    # clothes", "x-ray this photo"); "an x-ray of my broken arm" is medicine
    aimed = (
        people or pictured or sexual_hits or any(cat(c) for c in ("clothing", "pronoun", "real_person", "revealing"))
    )
    xray = cat("xray") if aimed else []
    nudify_reasons += [(h.text, "x-ray of clothes, a person or the image", (h,)) for h in xray]

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
    pair = None if discussion else _near(hits, "edit", "sexual", apart)
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
    refers = image_ref or bool(people) or bool(cat("pronoun")) or bool(cat("nudify") or xray)

    # grooming or exploitation words ("groom", "sexting", "molest") with a minor, unless the
    # text is about recognising, preventing or reporting it
    exploit = [] if cat("protective") or discussion else cat("exploit")
    if minor:
        for h in exploit:
            add("exploit_term", h.text, f"grooming or exploitation cue ({h.lang})", h)
    everyday = (
        minor
        and sexual
        and not (nudify or deepfake or exploit)
        and everyday_infant(
            hits, minor_ages, [h for h in hits if h.category in ("minor", "school", "hairstyle", "small_body")]
        )
    )
    if everyday:
        h = cat("everyday")[0]
        add("everyday_caption", h.text, "an infant's everyday nudity described (no sexual word, no request)", h)
    if everyday:
        label = LABEL_MINOR
    elif minor and (sexual or nudify or deepfake or exploit):
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
        everyday_caption=everyday,
        discussion=discussion,
    )
