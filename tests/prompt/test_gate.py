from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from amparo.errors import BadInput, TooLarge
from amparo.signals.classifiers.prompt.dataset import load_dataset
from amparo.signals.classifiers.prompt.evaluate import score, summarise
from amparo.signals.classifiers.prompt.gate import ALL_LABELS, PromptGate


def _row(lang: str, label: str, note_part: str = "") -> str:
    """A prompt from the shipped data set, so fixtures stay in the data files."""
    for r in load_dataset(["test", "dev"], [lang]):
        if r.label == label and note_part in r.note:
            return r.text
    raise AssertionError(f"no {label} row for {lang}")


def test_labels_and_evidence_for_a_minor_sexual_request(gate: PromptGate) -> None:
    a = gate.analyse(_row("en", "csam_request", "sexual request"))
    assert a.label == "csam_request"
    assert set(a.scores) == set(ALL_LABELS)
    assert max(a.scores, key=lambda k: a.scores[k]) == "csam_request"
    kinds = {e.kind for e in a.evidence}
    assert "sexual_term" in kinds and kinds & {"age", "minor_term", "school_context"}


def test_adult_age_in_a_sexual_request_is_adult(gate: PromptGate) -> None:
    a = gate.analyse(_row("es", "sexual_adult_request", "with adult age"))
    assert a.label == "sexual_adult_request"
    assert a.ages and min(a.ages) >= 18


def test_nudify_edit_reports_clothing_removal_and_image_reference(gate: PromptGate) -> None:
    for lang in ("en", "es", "de", "eu"):
        a = gate.analyse(_row(lang, "nudify_request"))
        assert a.label == "nudify_request", (lang, a.to_dict())
        assert a.nudify
        assert any(e.kind == "nudify_term" for e in a.evidence)


def test_refers_to_image(gate: PromptGate) -> None:
    assert gate.analyse("make her wear a bikini").refers_to_image
    assert gate.analyse("quítale la ropa a la mujer de la foto").refers_to_image
    assert not gate.analyse("a lighthouse in a storm").refers_to_image


def test_hard_benign_rows_are_not_refused(gate: PromptGate) -> None:
    rows = [r for r in load_dataset(["test"]) if r.hard and r.label != "csam_request"]
    got = gate.analyse_many([r.text for r in rows])
    wrong = [(r.text, a.label) for r, a in zip(rows, got, strict=True) if a.label == "csam_request"]
    assert not wrong


def test_empty_prompt_is_benign(gate: PromptGate) -> None:
    for text in ("", "   ", "\n\t"):
        a = gate.analyse(text)
        assert a.label == "benign" and a.evidence == () and a.decided_by == "none"


def test_too_long_is_refused_with_a_clear_error() -> None:
    small = PromptGate.load(max_chars=50, use_model=False)
    with pytest.raises(TooLarge, match="limit is 50"):
        small.analyse("a" * 51)


def test_bytes_are_refused(gate: PromptGate) -> None:
    with pytest.raises(BadInput):
        gate.analyse(b"nude")  # type: ignore[arg-type]


def test_binary_rtl_and_mixed_script_get_a_verdict(gate: PromptGate) -> None:
    for text in (
        "\x00\x01\x02\xff\ufffd",
        "صورة قطة على أريكة",
        "猫 cat кот 🐈",
        "\ud800 broken surrogate",
        "\u202eedun\u202c",
        "a" * 4000,
    ):
        a = gate.analyse(text)
        assert a.label in ALL_LABELS
        a.to_dict()


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_text_gets_a_verdict(text: str) -> None:
    gate = PromptGate.load(use_model=False)
    a = gate.analyse(text)
    assert a.label in ALL_LABELS
    assert abs(sum(a.scores.values()) - 1.0) < 1e-6


def test_analyse_many_matches_analyse(gate: PromptGate) -> None:
    texts = [r.text for r in load_dataset(["dev"], ["fr"])[:40]]
    assert [a.label for a in gate.analyse_many(texts)] == [gate.analyse(t).label for t in texts]


def test_quality_bar_on_the_test_split(gate: PromptGate, rules_gate: PromptGate) -> None:
    """Issue 4: per language, csam recall ≥ 0.97 with hard-benign FPR ≤ 1 %, nudify recall ≥ 0.95,
    and obfuscated variants lose at most 2 points (checked with the rules alone: a lower bound)."""
    rows = load_dataset(["test"])
    plain = summarise(score(gate, rows))
    obf = summarise(score(rules_gate, rows, obfuscate=True))
    for lang, e in plain["languages"].items():
        assert e["recall"]["csam_request"] >= 0.97, lang
        assert e["recall"]["nudify_request"] >= 0.95, lang
        assert e["hard_benign_csam_fpr"] <= 0.01, lang
        o = obf["languages"][lang]["obfuscated_recall"]
        assert o["csam_request"] >= e["recall"]["csam_request"] - 0.02, (lang, o)
        assert o["nudify_request"] >= e["recall"]["nudify_request"] - 0.02, (lang, o)
