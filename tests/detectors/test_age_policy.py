"""The minor decision of the shipped policy, from injected faces_age / nudity outputs (POLICY.md:
positive paths by injection, never sexual imagery). Unsure ages go to people, never decided."""

from __future__ import annotations

import pytest

from amparo.domain.items import ItemKind
from amparo.domain.signals import Classification
from amparo.domain.verdicts import Decision
from amparo.policy.engine import PolicyEngine, available_profiles
from amparo.policy.facts import Facts


def c(stage: str, **scores: float) -> Classification:
    return Classification(detector=f"t.{stage}", stage=stage, scores=scores)


def prompt(label: str) -> Classification:
    return Classification(detector="prompt_gate", stage="prompt", scores={label: 0.99}, details={"label": label})


@pytest.fixture(scope="module", params=[None, *available_profiles()])
def engine(request) -> PolicyEngine:  # type: ignore[no-untyped-def]
    return PolicyEngine.load(profile=request.param)


def judge(engine: PolicyEngine, *cls: Classification, kind: ItemKind = ItemKind.IMAGE, **extra: object):  # type: ignore[no-untyped-def]
    return engine.evaluate(Facts(kind, classifications=cls, extra=extra))


def test_nudity_with_an_unsure_face_goes_to_review(engine) -> None:
    # A face too blurred/small/turned to judge: its p_minor is not counted, the face is "unsure".
    r = judge(engine, c("nudity", nudity=0.9), c("faces_age", faces=1, unsure_faces=1, minor=0.0, min_age=25))
    assert r.decision == Decision.BLOCK and r.labels == ("age_unsure",)
    assert r.actions == ("quarantine", "open_case") and r.case_priority == 2
    assert "report" not in r.actions


def test_nudity_with_a_possible_minor_goes_to_review_not_csam(engine) -> None:
    r = judge(engine, c("nudity", nudity=0.9), c("faces_age", faces=1, unsure_faces=0, minor=0.3))
    assert r.labels == ("age_unsure",) and r.decision == Decision.BLOCK
    assert "csam_suspected" not in r.labels and "report" not in r.actions


def test_nudity_with_no_face_goes_to_review_at_lower_priority(engine) -> None:
    r = judge(engine, c("nudity", nudity=0.95), c("faces_age", faces=0, unsure_faces=0, minor=0.0))
    assert r.labels == ("age_unverified",) and r.decision == Decision.BLOCK
    assert r.case_priority == 3 and "open_case" in r.actions and "report" not in r.actions
    # the age stage absent (not registered): the same, never silently allowed
    r = judge(engine, c("nudity", nudity=0.95))
    assert r.labels == ("age_unverified",) and r.decision == Decision.BLOCK


def test_nudity_with_a_confident_adult_face_is_adult_explicit(engine) -> None:
    r = judge(engine, c("nudity", nudity=0.95), c("faces_age", faces=1, unsure_faces=0, minor=0.01, min_age=14))
    # min_age (the interval's lower bound) under 18 no longer makes a young adult a child
    assert r.decision == Decision.AGE_RESTRICT and r.labels == ("adult_explicit",)


def test_a_confident_adult_next_to_an_unsure_face_is_not_enough(engine) -> None:
    r = judge(engine, c("nudity", nudity=0.95), c("faces_age", faces=2, unsure_faces=1, minor=0.01))
    assert r.labels == ("age_unsure",) and r.decision == Decision.BLOCK


def test_nudity_with_a_confident_minor_is_csam_suspected_review_first(engine) -> None:
    r = judge(engine, c("nudity", nudity=0.9), c("faces_age", faces=1, unsure_faces=0, minor=0.92))
    assert r.decision == Decision.BLOCK and r.labels == ("csam_suspected",)
    assert r.actions == ("quarantine", "open_case") and r.case_priority == 1
    assert "report" not in r.actions  # a report only after a reviewer confirms


def test_benign_photos_carry_no_violation(engine) -> None:
    for faces in (
        c("faces_age", faces=0, unsure_faces=0, minor=0.0),
        c("faces_age", faces=1, unsure_faces=1, minor=0.0),
        c("faces_age", faces=3, unsure_faces=0, minor=0.3),
    ):
        r = judge(engine, c("nudity", nudity=0.05), faces)
        assert r.decision == Decision.ALLOW and r.labels == (), faces
    r = judge(engine, c("nudity", nudity=0.05), c("faces_age", faces=1, unsure_faces=0, minor=0.9))
    assert r.decision == Decision.ALLOW and r.labels == ("minor_present",)


def test_generated_outputs_use_the_same_rule(engine) -> None:
    unsure = judge(
        engine,
        c("nudity", nudity=0.9),
        c("faces_age", faces=1, unsure_faces=1, minor=0.0),
        kind=ItemKind.GENERATED_IMAGE,
    )
    assert unsure.decision == Decision.BLOCK and "age_unsure" in unsure.labels
    adult = judge(
        engine,
        c("nudity", nudity=0.9),
        c("faces_age", faces=1, unsure_faces=0, minor=0.01),
        kind=ItemKind.GENERATED_IMAGE,
    )
    assert adult.labels == ("adult_explicit",)


def test_output_of_an_edit_of_a_possible_minor_is_csam_suspected(engine) -> None:
    r = judge(
        engine,
        c("nudity", nudity=0.9),
        c("faces_age", faces=1, unsure_faces=0, minor=0.01),
        kind=ItemKind.GENERATED_IMAGE,
        derived_from_possible_minor=True,
    )
    assert "csam_suspected" in r.labels and "adult_explicit" not in r.labels and "report" not in r.actions


@pytest.mark.parametrize("faces", [dict(unsure_faces=1, minor=0.0), dict(unsure_faces=0, minor=0.2)])
def test_undress_edit_of_an_unsure_face_is_a_csam_request(engine, faces) -> None:
    r = judge(engine, prompt("nudify_request"), c("faces_age", faces=1, **faces), kind=ItemKind.EDIT_REQUEST)
    assert r.decision == Decision.REFUSE and "csam_request" in r.labels and "open_case" in r.actions


def test_benign_edit_of_an_unsure_face_is_allowed_with_a_reason(engine) -> None:
    r = judge(
        engine,
        prompt("benign"),
        c("nudity", nudity=0.02),
        c("faces_age", faces=1, unsure_faces=1, minor=0.0),
        kind=ItemKind.EDIT_REQUEST,
    )
    assert r.decision == Decision.ALLOW and r.labels == ()
    assert [x.rule for x in r.reasons] == ["request.edit_age_unsure"]
    adult = judge(
        engine,
        prompt("nudify_request"),
        c("faces_age", faces=1, unsure_faces=0, minor=0.01),
        kind=ItemKind.EDIT_REQUEST,
    )
    assert adult.labels == ("nudify_request",)  # refused, but not as a child


def test_review_queue_order_puts_possible_minors_before_faceless_nudity() -> None:
    from amparo.cases.priority import priority_for

    order = [priority_for([x]) for x in ("csam_suspected", "age_unsure", "sexual_deepfake", "age_unverified")]
    assert order == sorted(order, reverse=True) and len(set(order)) == 4


def test_thresholds_are_per_profile(engine) -> None:
    assert 0.0 < engine.thresholds["minor_review"] < engine.thresholds["minor"] <= 1.0


@pytest.mark.parametrize(
    ("faces", "label", "priority"),
    [
        ({"faces": 1, "unsure_faces": 0, "minor": 0.92}, "csam_suspected", 90),
        ({"faces": 1, "unsure_faces": 1, "minor": 0.0}, "age_unsure", 80),
        ({"faces": 0, "unsure_faces": 0, "minor": 0.0}, "age_unverified", 40),
    ],
)
def test_nudity_cases_wait_for_a_reviewer_and_nothing_is_reported(service, shared_data, faces, label, priority) -> None:  # type: ignore[no-untyped-def]
    from standins import install_standins

    from amparo.domain.items import Context, Item
    from amparo.store import review_repo
    from amparo.store.tables_events import LegalReportRow

    photo = (shared_data / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    dets = install_standins(service)
    dets["nudity"].set(photo, nudity=0.93)
    dets["faces_age"].set(photo, **faces)
    v = service.pipeline.check(Item.from_image(photo, Context(account="u-9")))
    assert v.decision == Decision.BLOCK and v.labels == (label,) and "report" not in v.actions
    with service.db.session() as s:
        (case,) = review_repo.list_queue(s, include_escalated=True, limit=5)
        assert case.priority == priority
        assert s.query(LegalReportRow).count() == 0
