"""The policy engine: validation with clear errors, and each rule's reasons (pure, no database)."""

from __future__ import annotations

from pathlib import Path

import pytest

from amparo.domain.items import Context, ItemKind
from amparo.domain.matches import Match
from amparo.domain.signals import Classification
from amparo.domain.verdicts import Decision
from amparo.errors import ConfigurationError
from amparo.policy.engine import PolicyEngine, available_profiles
from amparo.policy.facts import Facts


@pytest.fixture(scope="module")
def engine() -> PolicyEngine:
    return PolicyEngine.load()


def c(stage: str, **scores: float) -> Classification:
    return Classification(detector=f"t.{stage}", stage=stage, scores=scores)


def prompt(label: str) -> Classification:
    return Classification(detector="prompt_gate", stage="prompt", scores={label: 0.99}, details={"label": label})


def test_benign_image_allowed(engine) -> None:
    r = engine.evaluate(Facts(ItemKind.IMAGE, classifications=(c("nudity", nudity=0.02),)))
    assert r.decision == Decision.ALLOW and r.labels == ()


def test_known_csam_match(engine) -> None:
    m = Match("K", "csam", 1, "pdq", 4, threshold=31)
    r = engine.evaluate(Facts(ItemKind.IMAGE, matches=(m,)))
    assert r.decision == Decision.BLOCK and r.labels == ("csam_known",)
    assert r.reasons[0].rule == "hash.csam_known"
    assert dict(r.reasons[0].evidence)["match"].startswith("K#1 pdq d=4")
    assert r.actions == ("quarantine", "open_case", "report")


def test_nudity_with_minor_is_csam_suspected(engine) -> None:
    r = engine.evaluate(
        Facts(ItemKind.IMAGE, classifications=(c("nudity", nudity=0.9), c("faces_age", faces=1, min_age=9, minor=0.95)))
    )
    assert r.decision == Decision.BLOCK and "csam_suspected" in r.labels
    ev = dict(r.reasons[0].evidence)
    assert ev["nudity.nudity"] == 0.9 and ev["nudity.nudity.gte"] == 0.5


def test_nudity_with_adults_is_adult_explicit(engine) -> None:
    r = engine.evaluate(
        Facts(
            ItemKind.IMAGE, classifications=(c("nudity", nudity=0.95), c("faces_age", faces=1, min_age=30, minor=0.01))
        )
    )
    assert r.decision == Decision.AGE_RESTRICT and r.labels == ("adult_explicit",)


def test_minor_without_sexual_signal_never_violates(engine) -> None:
    r = engine.evaluate(
        Facts(
            ItemKind.IMAGE, classifications=(c("nudity", nudity=0.05), c("faces_age", faces=2, min_age=6, minor=0.97))
        )
    )
    assert r.decision == Decision.ALLOW and r.labels == ("minor_present",)


def test_ai_generated_label(engine) -> None:
    r = engine.evaluate(Facts(ItemKind.IMAGE, classifications=(c("provenance", ai_generated=1.0),)))
    assert r.decision == Decision.LABEL and r.labels == ("ai_generated",)


def test_sexual_deepfake_from_real_photo(engine) -> None:
    f = Facts(
        ItemKind.GENERATED_IMAGE,
        classifications=(c("nudity", nudity=0.8), c("faces_age", faces=1, min_age=35, minor=0.01)),
        extra={"derived_from_real_photo": True},
    )
    r = engine.evaluate(f)
    assert r.decision == Decision.BLOCK and "sexual_deepfake" in r.labels


def test_detector_failure_fails_closed(engine) -> None:
    failed = Classification(detector="nudity.x", stage="nudity", error="model missing")
    r = engine.evaluate(Facts(ItemKind.IMAGE, classifications=(failed,)))
    assert r.decision == Decision.BLOCK and r.labels == ("detector_failure",)
    assert "model missing" in dict(r.reasons[0].evidence)["detector_failed"]


def test_requests(engine) -> None:
    assert (
        engine.evaluate(Facts(ItemKind.PROMPT, classifications=(prompt("csam_request"),))).decision == Decision.REFUSE
    )
    assert engine.evaluate(Facts(ItemKind.PROMPT, classifications=(prompt("benign"),))).decision == Decision.ALLOW
    r = engine.evaluate(Facts(ItemKind.PROMPT, classifications=(prompt("csam_request"),), attempts={"csam_request": 3}))
    assert "open_case" in r.actions and any(x.rule == "request.csam_repeated" for x in r.reasons)
    edit = engine.evaluate(
        Facts(
            ItemKind.EDIT_REQUEST,
            classifications=(prompt("nudify_request"), c("faces_age", faces=1, min_age=30, minor=0.01)),
        )
    )
    assert edit.decision == Decision.REFUSE and edit.labels == ("nudify_request",)
    minor_edit = engine.evaluate(
        Facts(
            ItemKind.EDIT_REQUEST,
            classifications=(prompt("nudify_request"), c("faces_age", faces=1, min_age=11, minor=0.9)),
        )
    )
    assert "csam_request" in minor_edit.labels and "open_case" in minor_edit.actions


def test_profiles_load() -> None:
    assert {"eu-es", "us"} <= set(available_profiles())
    us = PolicyEngine.load(profile="us")
    assert us.report_to == ["ncmec"] and us.retention.reported_days == 365
    eu = PolicyEngine.load(profile="eu-es")
    assert "dsa_sor" in eu.report_to


@pytest.mark.parametrize(
    "bad, message",
    [
        ("name: x\nrules:\n  - id: r1\n    when: {colour: red}\n    decision: block\n", "unknown condition 'colour'"),
        ("name: x\nrules:\n  - id: r1\n    when: {ran: nudity}\n    decision: explode\n", "rules.0.decision"),
        ("name: x\nrules:\n  - id: r1\n    when: {ran: nudity}\n    label: nonsense\n", "unknown label"),
        (
            "name: x\nrules:\n  - id: r1\n    when: {score: {stage: nudity, key: nudity, gte: $nope}}\n",
            "unknown threshold",
        ),
        ("name: x\nrules: [\n", "not valid YAML"),
        ("name: x\nrules:\n  - id: r1\n    when: {ran: a}\n  - id: r1\n    when: {ran: b}\n", "used twice"),
    ],
)
def test_invalid_policies_give_clear_errors(tmp_path: Path, bad: str, message: str) -> None:
    p = tmp_path / "p.yaml"
    p.write_text(bad)
    with pytest.raises(ConfigurationError, match=message.replace("$", r"\$")):
        PolicyEngine.load(p)


def test_unknown_profile(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="unknown policy profile"):
        PolicyEngine.load(profile="mars")


def test_context_condition(tmp_path: Path) -> None:
    p = tmp_path / "p.yaml"
    p.write_text("name: x\nrules:\n  - id: r1\n    when: {context: {surface: upload}}\n    decision: label\n")
    e = PolicyEngine.load(p)
    assert e.evaluate(Facts(ItemKind.IMAGE, context=Context(surface="upload"))).decision == Decision.LABEL
    assert e.evaluate(Facts(ItemKind.IMAGE, context=Context(surface="chat"))).decision == Decision.ALLOW


def test_fail_open_policy_ignores_detector_failures() -> None:
    import yaml

    from amparo.policy.engine import DEFAULT_POLICY
    from amparo.policy.model import PolicyDocument

    doc = PolicyDocument.model_validate({**yaml.safe_load(DEFAULT_POLICY.read_text()), "fail_closed": False})
    e = PolicyEngine(doc)
    failed = Classification(detector="nudity.x", stage="nudity", error="model missing")
    assert e.evaluate(Facts(ItemKind.IMAGE, classifications=(failed,))).decision == Decision.ALLOW


def test_ncii_other_and_disputed_matches(engine) -> None:
    ncii = engine.evaluate(Facts(ItemKind.IMAGE, matches=(Match("STOPNCII", "ncii", 7, "pdq", 10, threshold=31),)))
    assert ncii.decision == Decision.BLOCK and ncii.labels == ("ncii_known",)
    assert ncii.actions == ("quarantine", "open_case")
    other = engine.evaluate(Facts(ItemKind.IMAGE, matches=(Match("MEMES", "other", 3, "md5", 0),)))
    assert other.decision == Decision.LABEL and other.labels == ("hash_match",)
    disputed = engine.evaluate(
        Facts(ItemKind.IMAGE, matches=(Match("K", "csam", 1, "pdq", 4, opinion="disputed", threshold=31),))
    )
    assert disputed.decision == Decision.LABEL and "open_case" in disputed.actions
    assert "csam_known" not in disputed.labels  # a disputed entry never auto-blocks
    safe = engine.evaluate(
        Facts(ItemKind.IMAGE, matches=(Match("SAFE", "other", 2, "pdq", 1, negative_bank=True),))
    )
    assert safe.decision == Decision.ALLOW
