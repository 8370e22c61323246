"""Videos through the whole flow: the HTTP API finds a known 10 s clip inside a 10 min benign upload;
frames go through the detector cascade (stand-ins keyed by frame content, POLICY.md); the policy sees
the worst frame and the aggregate facts; the CLI hashes and checks videos."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
import pytest
from typer.testing import CliRunner
from video_samples import CLIP_SCENE, frame_image, known_clip, long_upload, make_video

from amparo.content.images import DecodedImage
from amparo.domain.items import Item
from amparo.domain.signals import Classification
from amparo.signals.hashes.vpdq import hash_video, parse_reference_lines


def h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_http_finds_a_known_clip_inside_a_long_benign_upload(live_api) -> None:
    url, keys = live_api
    admin, submitter = h(keys["admin"]), h(keys["submitter"])
    with httpx.Client(base_url=url, timeout=120) as c:
        assert c.post("/v1/banks", json={"name": "known", "category": "csam"}, headers=admin).status_code == 201
        r = c.post("/v1/banks/known/videos/upload", files={"file": ("clip.mp4", known_clip())}, headers=admin)
        assert r.status_code == 201, r.text
        video_id = r.json()["video_id"]
        assert r.json()["frames"] == 10 and r.json()["sampling"] == {"seconds_per_hash": 1.0, "rule": "frame_index"}
        r = c.post("/v1/check", files={"file": ("upload.mp4", long_upload())}, headers=submitter)
        assert r.status_code == 200, r.text
        v = r.json()
        assert v["decision"] == "block" and "csam_known" in v["labels"] and v["rule"] == "hash.csam_known"
        m = next(m for m in v["matches"] if m["signal_type"] == "vpdq")
        assert m["entry_id"] == video_id and m["video"]["banked_share"] >= 0.8
        assert m["video"]["query_ranges"] == [[300.0, 309.0]]
        assert v["video"]["sampled_frames"] == 600 and v["video"]["video"]["codec"] == "h264"
        skipped = {s["stage"]: s for s in v["stages"] if not s["ran"]}
        assert "known hash match" in skipped["nudity"]["note"]  # stopped early: no detector ran
        assert v["event_id"]
        # The same upload without the clip is allowed; the bank's videos list and export work.
        r = c.post("/v1/check", files={"file": ("benign.mp4", long_upload(120, None))}, headers=submitter)
        assert r.status_code == 200 and r.json()["decision"] == "allow" and r.json()["matches"] == []
        listed = c.get("/v1/banks/known/videos", headers=admin).json()["videos"]
        assert [x["id"] for x in listed] == [video_id] and listed[0]["sha256"]
        text = c.get(f"/v1/banks/known/videos/{video_id}/export", headers=admin).text
        assert len(parse_reference_lines(text)) == 10
        r = c.post("/v1/hash", files={"file": ("clip.mp4", known_clip())}, headers=submitter)
        assert r.status_code == 200 and len(r.json()["vpdq"]["frames"]) == 10
        assert {s["type"] for s in r.json()["signals"]} == {"md5", "sha256"}
        # Bad input: a clear 4xx, nothing recorded.
        assert c.post("/v1/check", files={"file": ("x.mp4", known_clip()[:300])}, headers=submitter).status_code == 400
        r = c.post("/v1/banks/known/videos/import", content="0,100,zz,0.0", headers=admin)
        assert r.status_code == 400 and r.json()["error"]["code"] == "bad_hash"
        assert (
            c.post(
                "/v1/banks/known/videos/upload", files={"file": ("c.mp4", known_clip())}, headers=submitter
            ).status_code
            == 403
        )
        assert c.delete(f"/v1/banks/known/videos/{video_id}", headers=admin).json() == {"deleted": 1}
        assert c.delete(f"/v1/banks/known/videos/{video_id}", headers=admin).status_code == 404


# -- the cascade on frames ---------------------------------------------------------------------


def _signature(rgb: np.ndarray) -> np.ndarray:
    return np.asarray(rgb, dtype=np.float32).reshape(-1, 3).mean(axis=0)


@dataclass
class FrameStandIn:
    """Scores frames by content: frames that look like scene `scene` (mean colour) get `hit` scores."""

    name: str
    stage: str
    scene: int
    hit: dict[str, float]
    miss: dict[str, float]
    calls: int = 0
    _refs: list[np.ndarray] = field(init=False)

    def __post_init__(self) -> None:
        # The scene's first ten seconds, every half second (what the test videos show of it).
        self._refs = [_signature(frame_image(self.scene, t, (256, 144))) for t in np.arange(0, 10, 0.5)]

    def classify(self, image: DecodedImage, data: bytes) -> Classification:
        self.calls += 1
        near = min(float(np.abs(_signature(image.rgb) - r).max()) for r in self._refs) < 6
        return Classification(self.name, dict(self.hit if near else self.miss), stage=self.stage)


def _install(service, nudity: FrameStandIn, faces: FrameStandIn) -> None:  # type: ignore[no-untyped-def]
    for name in list(service.detectors.names):
        service.detectors.unregister(name)
    service.detectors.register_instance(nudity)
    service.detectors.register_instance(faces)


def _segment_video() -> bytes:
    """60 s benign video whose seconds 20-29 show the flagged scene (a stand-in for explicit frames)."""
    return make_video(60, scene=1, fps=2, size=(256, 144), scenes=[(20.0, CLIP_SCENE, 0.0), (30.0, 1, 30.0)])


def test_worst_frame_and_aggregate_facts_reach_the_policy(service) -> None:
    nudity = FrameStandIn("standin.nudity", "nudity", CLIP_SCENE, {"nudity": 0.93}, {"nudity": 0.02})
    faces = FrameStandIn(
        "standin.faces_age", "faces_age", CLIP_SCENE, {"faces": 1, "minor": 0.01, "min_age": 31.0}, {"faces": 0}
    )
    _install(service, nudity, faces)
    v = service.pipeline.check(Item.from_video(_segment_video()))
    assert v.decision == "age_restrict" and v.labels == ("adult_explicit",)
    video = v.extra["video"]
    assert video["sampled_frames"] == 60 and video["video_frames_flagged"] == 10
    assert video["video_share_flagged"] == pytest.approx(10 / 60, abs=1e-3)
    assert video["flagged_ranges"] == [(20.0, 29.0)] and 20.0 <= video["worst_frame_t"] <= 29.0
    assert nudity.calls == 60 and faces.calls == 10  # faces/age only where nudity asked for it
    stages = {s.name: s for s in v.stages}
    assert stages["faces_age"].ran and stages["faces_age"].note == "10 of 60 frames"
    # The verdict's classifications are the worst frame's own.
    assert {c.stage for c in v.classifications} == {"nudity", "faces_age"}
    assert all(20.0 <= c.details["t"] <= 29.0 for c in v.classifications)


def test_scores_of_different_frames_never_combine(service) -> None:
    # Faces/age runs from nudity 0.3 here: the flagged scene has nudity 0.9 and adult faces, the
    # other frames nudity 0.35 and an apparent minor. Taking the maximum over frames would combine
    # them into csam_suspected; frame by frame, it is adult nudity in one place and a minor with no
    # sexual signal in another.
    service.policy.document.cascade.faces_age_if_nudity_gte = 0.3
    nudity = FrameStandIn("standin.nudity", "nudity", CLIP_SCENE, {"nudity": 0.9}, {"nudity": 0.35})
    minor = {"faces": 1, "minor": 0.9, "min_age": 9.0}
    faces = FrameStandIn(
        "standin.faces_age", "faces_age", CLIP_SCENE, {"faces": 1, "minor": 0.01, "min_age": 30.0}, minor
    )
    _install(service, nudity, faces)
    v = service.pipeline.check(Item.from_video(_segment_video()), record=False)
    assert "csam_suspected" not in v.labels and v.decision == "age_restrict" and v.labels == ("adult_explicit",)
    assert faces.calls == 60
    # The same scores inside one frame do combine.
    nudity.miss = {"nudity": 0.6}
    v = service.pipeline.check(Item.from_video(_segment_video()), record=False)
    assert "csam_suspected" in v.labels and v.decision == "block"
    assert not (20.0 <= v.extra["video"]["worst_frame_t"] <= 29.5)


def test_benign_video_runs_nudity_only_and_is_allowed(service) -> None:
    nudity = FrameStandIn("standin.nudity", "nudity", CLIP_SCENE, {"nudity": 0.9}, {"nudity": 0.01})
    faces = FrameStandIn("standin.faces_age", "faces_age", CLIP_SCENE, {"faces": 1}, {"faces": 0})
    _install(service, nudity, faces)
    v = service.pipeline.check(Item.from_video(make_video(20, scene=2, fps=5, size=(256, 144))))
    assert v.decision == "allow" and faces.calls == 0 and nudity.calls == 20
    assert v.extra["video"]["video_share_flagged"] == 0.0 and v.extra["video"]["flagged_ranges"] == []


def test_failing_frame_detector_holds_the_video(service) -> None:
    class Broken:
        name, stage = "standin.nudity", "nudity"

        def classify(self, image: DecodedImage, data: bytes) -> Classification:
            raise RuntimeError("model missing")

    faces = FrameStandIn("standin.faces_age", "faces_age", CLIP_SCENE, {"faces": 0}, {"faces": 0})
    _install(service, Broken(), faces)  # type: ignore[arg-type]
    v = service.pipeline.check(Item.from_video(make_video(3, scene=2, fps=5)), record=False)
    assert v.decision == "block" and "detector_failure" in v.labels and v.errors


# -- CLI -----------------------------------------------------------------------------------------


def test_cli_hash_and_check_accept_video(tmp_path: Path, monkeypatch) -> None:
    from amparo.cli.main import app

    clip = tmp_path / "clip.mp4"
    clip.write_bytes(known_clip())
    monkeypatch.setenv("AMPARO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AMPARO_DETECTORS", "none")
    runner = CliRunner()
    r = runner.invoke(app, ["hash", str(clip)])
    assert r.exit_code == 0, r.output
    lines = [x for x in r.output.splitlines() if x and not x.startswith("#")]
    assert [f.hash for f in parse_reference_lines("\n".join(lines))] == [
        f.hash for f in hash_video(known_clip()).frames
    ]
    r = runner.invoke(app, ["hash", "--json", "--seconds-per-hash", "0.5", str(clip)])
    out = json.loads(r.output)
    assert out["vpdq"]["sampling"]["seconds_per_hash"] == 0.5 and len(out["vpdq"]["frames"]) == 20
    r = runner.invoke(app, ["check", "--json", str(clip)])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output.splitlines()[-1])["decision"] == "allow"
    r = runner.invoke(app, ["explain", str(clip)])
    assert r.exit_code == 0, r.output
    assert "video     mov h264 320x180 10.0 fps, 10 of 100 frames hashed" in r.output
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(known_clip()[:300])
    assert runner.invoke(app, ["check", "--json", str(bad)]).exit_code == 2


def test_video_nudity_with_no_judged_face_goes_to_review(service) -> None:
    """Nudity with no face to judge (or an unsure one) is never silently allowed in a video either."""
    nudity = FrameStandIn("standin.nudity", "nudity", CLIP_SCENE, {"nudity": 0.93}, {"nudity": 0.02})
    faces = FrameStandIn("standin.faces_age", "faces_age", CLIP_SCENE, {"faces": 0}, {"faces": 0})
    _install(service, nudity, faces)
    v = service.pipeline.check(Item.from_video(_segment_video()), record=False)
    assert v.decision == "block" and v.labels == ("age_unverified",)
    faces.hit = {"faces": 1, "minor": 0.4, "unsure_faces": 1}
    v = service.pipeline.check(Item.from_video(_segment_video()), record=False)
    assert v.decision == "block" and v.labels == ("age_unsure",)
