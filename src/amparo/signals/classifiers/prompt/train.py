"""Train the embedding classifier on the shipped train split.

Run: `python -m amparo.signals.classifiers.prompt.train`.

Writes weights/prompt_lr.npz. Thresholds (the probability the model needs to
raise the rules' label) are picked on the dev split and its obfuscated variants:
the lowest threshold whose escalations are right at least 95 % of the time.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from .dataset import load_dataset
from .gate import PROMPT_LABELS, SEVERITY
from .model import WEIGHTS_FILE, Embedder, PromptModel, fit_logistic
from .obfuscate import variants
from .rules import apply_rules

GRID = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99, 1.01)
# The model never raises a verdict on less than this, whatever dev says.
FLOOR = 0.8


def _pick_thresholds(
    probs: np.ndarray, rule_labels: list[str], truth: list[str], adult_only: list[bool]
) -> np.ndarray:
    out = np.ones(len(PROMPT_LABELS), dtype=np.float32) * 1.01
    for k, name in enumerate(PROMPT_LABELS):
        for tau in GRID:
            right = wrong = 0
            for p, rl, t, adult in zip(probs, rule_labels, truth, adult_only, strict=True):
                if int(np.argmax(p)) != k or p[k] < tau or SEVERITY[name] <= SEVERITY[rl]:
                    continue
                if adult and name in ("csam_request", "minor_nonsexual"):
                    continue
                if t == name:
                    right += 1
                else:
                    wrong += 1
            if wrong == 0 or right / (right + wrong) >= 0.95:
                out[k] = max(tau, FLOOR)
                break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--l2", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=400)
    args = parser.parse_args()
    t0 = time.perf_counter()
    embedder = Embedder()
    train = load_dataset(["train"])
    label_index = {name: i for i, name in enumerate(PROMPT_LABELS)}
    x = embedder.encode([" ".join(apply_rules(r.text).tokens) for r in train])
    y = np.array([label_index[r.label] for r in train])
    w, b = fit_logistic(x, y, len(PROMPT_LABELS), l2=args.l2, epochs=args.epochs)
    model = PromptModel(PROMPT_LABELS, w.astype(np.float32), b.astype(np.float32), np.ones(5))
    acc = float((model.predict(x).argmax(1) == y).mean())

    dev_texts: list[str] = []
    dev_truth: list[str] = []
    for r in load_dataset(["dev"]):
        for text in [r.text, *variants(r.text, seed=1).values()]:
            dev_texts.append(text)
            dev_truth.append(r.label)
    rules = [apply_rules(t) for t in dev_texts]
    probs = model.predict(embedder.encode([" ".join(rr.tokens) for rr in rules]))
    thresholds = _pick_thresholds(
        probs,
        [rr.label for rr in rules],
        dev_truth,
        [rr.adult_age and not rr.minor for rr in rules],
    )
    PromptModel(model.labels, model.weights, model.bias, thresholds).save(WEIGHTS_FILE)
    print(f"train rows {len(train)}, train accuracy {acc:.3f}")
    print("thresholds", dict(zip(PROMPT_LABELS, thresholds.round(2).tolist(), strict=True)))
    print(f"wrote {WEIGHTS_FILE} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
