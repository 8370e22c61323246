"""The learned stage decides where the rules are silent, and never crosses the hard lines."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from amparo.errors import BadInput
from amparo.signals.classifiers.prompt.dataset import load_dataset, load_public
from amparo.signals.classifiers.prompt.gate import PromptGate
from amparo.signals.classifiers.prompt.rules import apply_rules

# No minor cue of any kind: adult ages, adult words, nothing about people at all.
NO_MINOR_CUE = [
    "sexy photo of a 30 year old model",
    "a woman of 45 posing nude on a beach",
    "explicit photo of two adults",
    "a lighthouse in a storm",
    "bowl of fruit on a wooden table",
    "mujer de 40 años desnuda",
    "Frau, 35 Jahre, nackt",
]


def _certain(gate: PromptGate, name: str) -> np.ndarray:
    assert gate.model is not None
    p = np.full(len(gate.model.labels), 1e-6, dtype=np.float32)
    p[gate.model.labels.index(name)] = 1.0
    return p


@pytest.fixture(scope="module")
def full_gate() -> PromptGate:
    return PromptGate.load(use_prefilter=False, cache_size=0)


def test_model_never_says_a_minor_label_without_a_minor_cue(full_gate: PromptGate) -> None:
    for text in NO_MINOR_CUE:
        rules = apply_rules(text, full_gate.lexicon)
        assert not rules.minor, text
        for name in ("csam_request", "minor_nonsexual"):
            got = full_gate._combine(rules, _certain(full_gate, name))
            assert got.label not in ("csam_request", "minor_nonsexual"), (text, name, got.label)


def test_model_may_raise_a_minor_nonsexual_verdict_to_csam(full_gate: PromptGate) -> None:
    rules = apply_rules("a child at the beach", full_gate.lexicon)
    assert rules.minor and rules.label == "minor_nonsexual"
    assert full_gate.model is not None
    k = full_gate.model.labels.index("csam_request")
    assert full_gate.model.thresholds[k] <= 1.0, "the shipped weights must let the model raise to csam_request"
    got = full_gate._combine(rules, _certain(full_gate, "csam_request"))
    assert got.label == "csam_request" and got.decided_by == "model"
    assert any(e.kind == "model" for e in got.evidence)


def test_where_the_rules_are_silent_the_model_can_only_say_sexual_adult(full_gate: PromptGate) -> None:
    assert full_gate.model is not None
    rules = apply_rules("a lighthouse in a storm", full_gate.lexicon)
    assert not rules.relevant and rules.label == "benign"
    names = {full_gate.model.labels[k] for k in full_gate.reachable(rules)}
    assert names <= {"sexual_adult_request"}
    for name in ("nudify_request", "csam_request", "minor_nonsexual"):
        assert full_gate._combine(rules, _certain(full_gate, name)).label == "benign"
    got = full_gate._combine(rules, _certain(full_gate, "sexual_adult_request"))
    if names:
        assert got.label == "sexual_adult_request" and got.decided_by == "model"
    else:
        assert got.label == "benign" and got.decided_by == "none"


def test_empty_prompt_never_reaches_the_model(full_gate: PromptGate) -> None:
    for text in ("", "   "):
        assert full_gate.reachable(apply_rules(text, full_gate.lexicon)) == []
        assert full_gate.analyse(text).decided_by == "none"


def test_no_model_verdict_on_the_test_split_is_a_minor_label_without_a_minor_cue(full_gate: PromptGate) -> None:
    texts = [r.text for r in load_dataset(["test"])] + NO_MINOR_CUE
    for text, a in zip(texts, full_gate.analyse_many(texts), strict=True):
        if a.decided_by == "model" and a.label in ("csam_request", "minor_nonsexual"):
            assert apply_rules(text, full_gate.lexicon).minor, text


def test_load_public_reads_labelled_rows_of_the_split(tmp_path: Path) -> None:
    rows = [
        {"text": "a cat on a mat", "label": "benign", "source": "s1", "lang": "en", "split": "train"},
        {"text": "unlabelled prompt", "label": "", "source": "s2", "lang": "en", "split": "train"},
        {"text": "a dog", "label": "benign", "source": "s1", "lang": "en", "split": "test"},
    ]
    (tmp_path / "s.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n", "utf-8")
    got = load_public(["train"], tmp_path)
    assert [(r.text, r.source) for r in got] == [("a cat on a mat", "s1")]
    assert len(load_public(["train"], tmp_path, labelled=False)) == 2
    assert load_public(["train"], tmp_path / "absent") == []
    (tmp_path / "bad.jsonl").write_text("{not json\n", "utf-8")
    with pytest.raises(BadInput):
        load_public(["train"], tmp_path)
