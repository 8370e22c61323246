"""The whole flow with stand-in detectors (POLICY.md: positive paths by injection, benign images only)."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from standins import install_standins

from amparo.domain.items import Context, Item, ItemKind
from amparo.errors import BadInput
from amparo.store import banks_repo, events_repo
from amparo.store.banks_repo import NewEntry
from amparo.store.tables_events import LegalReportRow


@pytest.fixture
def bridge(shared_data) -> bytes:  # type: ignore[no-untyped-def]
    return (shared_data / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()


@pytest.fixture
def coaster(shared_data) -> bytes:  # type: ignore[no-untyped-def]
    return (shared_data / "pdq" / "reg-test" / "pen-and-coaster.png").read_bytes()


def stage(verdict, name: str):  # type: ignore[no-untyped-def]
    return next(s for s in verdict.stages if s.name == name)


def test_benign_image_stops_after_cheap_stages(service, bridge) -> None:
    dets = install_standins(service)
    v = service.pipeline.check(Item.from_image(bridge))
    assert v.decision.value == "allow" and v.labels == ()
    assert stage(v, "nudity").ran and not stage(v, "faces_age").ran
    assert "skipped: nudity" in (stage(v, "faces_age").note or "")
    assert dets["faces_age"].calls == 0
    assert {s.type for s in v.signals} == {"pdq", "md5", "sha1", "sha256"}
    assert v.event_id is not None


def test_nudity_plus_minor_blocks_and_opens_path(service, bridge) -> None:
    dets = install_standins(service)
    dets["nudity"].set(bridge, nudity=0.93)
    dets["faces_age"].set(bridge, faces=1, min_age=10, minor=0.9)
    v = service.pipeline.check(Item.from_image(bridge, Context(account="u1")))
    assert v.decision.value == "block" and "csam_suspected" in v.labels
    assert v.rule == "image.csam_suspected"
    r = v.reasons[0].to_dict()
    assert r["evidence"]["nudity.nudity"] == 0.93 and r["evidence"]["faces_age.minor"] == 0.9
    assert "quarantine" in v.actions and "open_case" in v.actions
    with service.db.session() as s:
        ev = events_repo.get_event(s, event_id=v.event_id)
        assert ev.decision == "block" and ev.labels == ["csam_suspected"] and ev.account == "u1"


def test_nudity_plus_adult_is_age_restricted(service, bridge) -> None:
    dets = install_standins(service)
    dets["nudity"].set(bridge, nudity=0.97)
    dets["faces_age"].set(bridge, faces=1, min_age=31, minor=0.01)
    v = service.pipeline.check(Item.from_image(bridge))
    assert v.decision.value == "age_restrict" and v.labels == ("adult_explicit",)


def test_known_hash_decides_at_once_and_queues_report(service, bridge) -> None:
    dets = install_standins(service)
    with service.db.session() as s:
        b = banks_repo.create_bank(s, name="KNOWN", category="csam")
    ids = service.pipeline.hash_image(service.pipeline.decode(bridge), bridge)
    with service.db.session() as s:
        banks_repo.add_entries(
            s, bank_id=b.id, entries=[NewEntry("pdq", next(x.value for x in ids if x.type == "pdq"))]
        )
    service.matcher.refresh()
    v = service.pipeline.check(Item.from_image(bridge))
    assert v.labels[0] == "csam_known" and v.decision.value == "block"
    assert dets["nudity"].calls == 0 and not stage(v, "nudity").ran
    assert v.extra["action_results"]["report"]["targets"] == ["ncmec"]
    with service.db.session() as s:
        rep = s.query(LegalReportRow).one()
        assert rep.status == "queued" and rep.payload["file_viewed_by_esp"] is False


def test_detector_failure_is_never_a_silent_allow(service, bridge) -> None:
    dets = install_standins(service)
    dets["nudity"].fail = True
    v = service.pipeline.check(Item.from_image(bridge))
    assert v.decision.value == "block" and v.labels == ("detector_failure",)
    assert any("model file missing" in e for e in v.errors)
    # the cascade went on to faces/age because nudity could not be ruled out
    assert stage(v, "faces_age").ran


def test_edit_request_runs_faces_and_refuses_nudify(service, coaster, monkeypatch) -> None:
    from amparo.domain.signals import Classification

    dets = install_standins(service)
    dets["faces_age"].set(coaster, faces=1, min_age=29, minor=0.01)

    class FakeGate:  # the prompt stage's output injected like a detector's
        def classify_text(self, text: str) -> Classification:
            label = "nudify_request" if "undress" in text else "benign"
            return Classification("prompt_gate", {label: 0.99}, {"label": label}, stage="prompt")

    service.pipeline._prompt = FakeGate()
    v = service.pipeline.check(Item.from_edit("undress the person in this photo", coaster, Context(account="a")))
    assert v.decision.value == "refuse" and v.labels == ("nudify_request",)
    assert stage(v, "faces_age").ran
    dets["faces_age"].set(coaster, faces=1, min_age=9, minor=0.95)
    v2 = service.pipeline.check(Item.from_edit("undress the person in this photo", coaster, Context(account="a")))
    assert "csam_request" in v2.labels
    ok = service.pipeline.check(Item.from_edit("make the sky blue", coaster))
    assert ok.decision.value == "allow"


def test_repeated_csam_requests_escalate(service) -> None:
    from amparo.domain.signals import Classification

    class FakeGate:
        def classify_text(self, text: str) -> Classification:
            return Classification("prompt_gate", {"csam_request": 0.99}, {"label": "csam_request"}, stage="prompt")

    service.pipeline._prompt = FakeGate()
    rules = []
    for _ in range(3):
        v = service.pipeline.check(Item.from_prompt("x", Context(account="acct-9")))
        rules.append({r.rule for r in v.reasons})
    assert "request.csam_repeated" not in rules[0] and "request.csam_repeated" not in rules[1]
    assert "request.csam_repeated" in rules[2]


def test_missing_parts_are_bad_input(service) -> None:
    with pytest.raises(BadInput):
        service.pipeline.check(Item(kind=ItemKind.IMAGE))
    with pytest.raises(BadInput):
        service.pipeline.check(Item.from_image(b"not an image"))


def test_animated_image_decodes_and_checks(service) -> None:
    install_standins(service)
    frames = [Image.new("RGB", (64, 64), (i * 20, 10, 10)) for i in range(6)]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    v = service.pipeline.check(Item.from_image(buf.getvalue()))
    assert v.decision.value == "allow"
