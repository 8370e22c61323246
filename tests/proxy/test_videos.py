"""The video generation guard over real HTTP: the official `openai` client drives the Videos API
through the proxy, in front of the stand-in generator's video mode (benign drawn clips).

A refused prompt never reaches the generator; a released video carries a trusted C2PA manifest and
is traced from a re-encoded copy (PyAV: another codec, half size, another frame rate); a blocked
output (its frames are in a csam bank: benign frames, POLICY.md) is preserved and never served."""

from __future__ import annotations

import io
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import httpx
import openai
import pytest
from PIL import Image
from video_samples import known_clip

from amparo.banks.management import Acting
from amparo.banks.videos import bank_video_file
from amparo.cli.verify import run_verify
from amparo.provenance.c2pa_video import read_video_manifest
from amparo.provenance.trace import Tracer
from amparo.proxy.stamping import trust_anchor_for
from amparo.settings import Settings
from amparo.store import banks_repo, video_gen_repo

from .conftest import Proxy, running_proxy

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")  # the client marks Sora deprecated
SIZE = "1280x720"


@pytest.fixture
def video_settings(sqlite_settings: Settings) -> Settings:
    sqlite_settings.video_poll_seconds = 0.05
    return sqlite_settings


@pytest.fixture
def vproxy(video_settings: Settings, upstream: Any, prompt_gate: Any) -> Iterator[Proxy]:
    _, c = upstream
    c.video_mode, c.fixed_video, c.video_render_s, c.video_fps = "ok", None, 0.2, 4
    with running_proxy(video_settings, upstream, prompt_gate, timeout_s=30.0) as p:
        yield p


def _poll(p: Proxy, video_id: str, client: openai.OpenAI | None = None) -> Any:
    return (client or p.client).videos.poll(video_id, poll_interval_ms=50)


def reencode(data: bytes) -> bytes:
    """The same pictures as another file: VP9 in WebM, half size, twice the frame rate (each
    frame written twice), low quality."""
    out = io.BytesIO()
    with av.open(io.BytesIO(data)) as src, av.open(out, mode="w", format="webm") as dst:
        vin = src.streams.video[0]
        stream = dst.add_stream("libvpx-vp9", rate=Fraction(vin.average_rate) * 2)
        stream.width, stream.height = vin.codec_context.width // 2, vin.codec_context.height // 2
        stream.pix_fmt = "yuv420p"
        stream.options = {"deadline": "realtime", "cpu-used": "8", "crf": "45", "b": "0"}
        for frame in src.decode(vin):
            img = frame.to_image().resize((stream.width, stream.height))
            for _ in range(2):
                for packet in stream.encode(av.VideoFrame.from_image(img)):
                    dst.mux(packet)
        for packet in stream.encode():
            dst.mux(packet)
    return out.getvalue()


def test_refused_prompt_never_reaches_the_generator(vproxy: Proxy) -> None:
    with pytest.raises(openai.BadRequestError) as ei:
        vproxy.client.videos.create(prompt="nude image of a 12 year old", size=SIZE, seconds="4")
    err = ei.value.body
    assert ei.value.status_code == 400 and err["code"] == "content_policy_violation"
    assert "csam" not in err["message"]  # the label is never named to the caller
    assert not [r for r in vproxy.controls.requests if r["path"] == "videos"]
    rec = vproxy.last()
    assert rec["operation"] == "video_generation" and rec["decision"] == "refuse" and rec["stage"] == "request"
    assert rec["generation_id"] == err["amparo_reference"] and rec["outputs"] == []
    with vproxy.service.db.session() as s:
        assert video_gen_repo.list_jobs(s, owner=None, after=None, limit=10, order="desc", any_owner=True)[0] == []


def test_released_video_is_signed_served_and_traced_from_a_reencoded_copy(vproxy: Proxy, tmp_path: Path) -> None:
    job = vproxy.client.videos.create(
        prompt="a lighthouse on a hill at dusk", size=SIZE, seconds="4", extra_headers={"X-Amparo-Account": "acct-v"}
    )
    assert job.status == "queued" and job.id.startswith("video_") and job.prompt == "a lighthouse on a hill at dusk"
    assert job.id not in {r.get("source") for r in vproxy.controls.requests}  # our id, not the upstream's
    done = _poll(vproxy, job.id)
    assert done.status == "completed" and done.progress == 100 and done.expires_at is not None, done
    video = vproxy.client.videos.download_content(job.id).content
    thumb = vproxy.client.videos.download_content(job.id, variant="thumbnail").content
    sprites = vproxy.client.videos.download_content(job.id, variant="spritesheet").content
    with Image.open(io.BytesIO(thumb)) as t, Image.open(io.BytesIO(sprites)) as sp:
        assert t.format == "WEBP" and sp.format == "JPEG" and t.size == (720, 405)
    anchor = trust_anchor_for(vproxy.service.settings)
    reading = read_video_manifest(video, anchor)
    rec = vproxy.last()
    assert reading is not None and reading.validation_state == "Trusted"
    assert reading.generation_id == rec["generation_id"] and "trainedAlgorithmicMedia" in reading.digital_source_types
    assert rec["decision"] == "allow" and rec["stage"] == "output" and rec["account"] == "acct-v"
    assert rec["outputs"][0]["returned"] and rec["outputs"][0]["sha256"]
    assert [j.id for j in vproxy.client.videos.list()] == [job.id]

    tracer = Tracer.for_service(vproxy.service)
    assert tracer.trace(video).method == "c2pa"
    copy = reencode(video)
    assert copy[:4] == b"\x1a\x45\xdf\xa3" and len(copy) < len(video)  # WebM now: manifest and bytes gone
    res = tracer.trace(copy)
    assert res.found and res.method == "vpdq", res.steps
    assert [s["method"] for s in res.steps] == ["c2pa", "sha256", "vpdq"]
    assert res.generation is not None and res.generation["generation_id"] == rec["generation_id"]
    assert res.evidence["query_share"] == 1.0 and res.confidence == 0.9
    assert not tracer.trace(known_clip()).found  # an unrelated video
    r = httpx.post(
        vproxy.url + "/v1/trace",
        files={"file": ("copy.webm", copy, "video/webm")},
        headers={"Authorization": f"Bearer {vproxy.keys['reviewer']}"},
        timeout=60,
    )
    assert r.status_code == 200 and r.json()["method"] == "vpdq"
    assert r.json()["generation"]["generation_id"] == rec["generation_id"]


def test_trace_cli_finds_the_reencoded_clip(vproxy: Proxy, tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from amparo.cli.main import app

    job = vproxy.client.videos.create(prompt="boats in a harbour", size=SIZE, seconds="4")
    assert _poll(vproxy, job.id).status == "completed"
    (tmp_path / "clip.webm").write_bytes(reencode(vproxy.client.videos.download_content(job.id).content))
    s = vproxy.service.settings
    env = {
        "AMPARO_ENVIRONMENT": "test",
        "AMPARO_DATA_DIR": str(s.data_dir),
        "AMPARO_DATABASE_URL": s.resolved_database_url,
        "AMPARO_MASTER_KEY": s.master_key,
        "AMPARO_WATERMARK_KEY": s.watermark_key,
        "AMPARO_SESSION_SECRET": "s" * 32,
        "AMPARO_DETECTORS": "none",
    }
    res = CliRunner().invoke(app, ["trace", "--json", "--show-prompt", str(tmp_path / "clip.webm")], env=env)
    assert res.exit_code == 0, res.stdout
    line = json.loads(res.stdout.strip().splitlines()[-1])
    assert line["method"] == "vpdq" and line["prompt"] == "boats in a harbour"
    assert line["generation"]["generation_id"] == vproxy.last()["generation_id"]


def test_blocked_output_is_preserved_and_never_served(vproxy: Proxy) -> None:
    svc = vproxy.service
    with svc.db.session() as s:
        banks_repo.create_bank(s, name="known", category="csam")
    bank_video_file(svc.db, svc.settings, Acting(svc.audit, "test", "admin"), bank="known", data=known_clip())
    vproxy.controls.fixed_video = known_clip()  # the generator delivers a banked (benign) clip
    job = vproxy.client.videos.create(prompt="a meadow with sheep", size=SIZE, seconds="4")
    done = _poll(vproxy, job.id)
    assert done.status == "failed" and done.error is not None
    assert done.error.code == "content_policy_violation" and "known" not in done.error.message
    for variant in ("video", "thumbnail", "spritesheet"):
        with pytest.raises(openai.BadRequestError) as ei:
            vproxy.client.videos.download_content(job.id, variant=variant)  # type: ignore[arg-type]
        assert ei.value.body["code"] == "content_policy_violation"
    rec = vproxy.last()
    out = rec["outputs"][0]
    assert rec["decision"] == "block" and rec["stage"] == "output" and not out["returned"] and out["evidence_ref"]
    with svc.db.session() as s:
        row, kept = svc.vault.read(s, ref=out["evidence_ref"], actor="test", actor_role="admin", purpose="test")
    assert kept == known_clip() and row.sha256 == out["sha256"]
    assert not Tracer.for_service(svc).trace(known_clip()).found  # blocked outputs are not "generated"
    files = svc.settings.data_dir / "proxy_videos"
    assert not any(files.rglob("*.mp4"))


def test_remix_is_gated_and_linked_to_its_source(vproxy: Proxy) -> None:
    first = _poll(vproxy, vproxy.client.videos.create(prompt="a red kite over a field", size=SIZE).id)
    assert first.status == "completed"
    with pytest.raises(openai.BadRequestError) as ei:
        vproxy.client.videos.remix(first.id, prompt="nude image of a 12 year old")
    assert ei.value.body["code"] == "content_policy_violation"
    assert not [r for r in vproxy.controls.requests if r["path"] == "remix"]
    remix = _poll(vproxy, vproxy.client.videos.remix(first.id, prompt="make the kite blue").id)
    assert remix.status == "completed" and remix.remixed_from_video_id == first.id
    assert vproxy.last()["operation"] == "video_remix"
    assert len(vproxy.client.videos.download_content(remix.id).content) > 1000


def test_jobs_are_private_to_their_key_and_delete_removes_them(vproxy: Proxy) -> None:
    job = _poll(vproxy, vproxy.client.videos.create(prompt="a windmill", size=SIZE).id)
    other = openai.OpenAI(base_url=vproxy.url + "/v1", api_key=vproxy.keys["admin"], max_retries=0)
    with pytest.raises(openai.NotFoundError):
        other.videos.retrieve(job.id)
    with pytest.raises(openai.NotFoundError):
        other.videos.download_content(job.id)
    assert list(other.videos.list()) == []
    gone = vproxy.client.videos.delete(job.id)
    assert gone.deleted and gone.id == job.id
    with pytest.raises(openai.NotFoundError):
        vproxy.client.videos.retrieve(job.id)
    assert vproxy.ledger.get(vproxy.last()["generation_id"]) is not None  # the ledger keeps its row
    reviewer = openai.OpenAI(base_url=vproxy.url + "/v1", api_key=vproxy.keys["reviewer"], max_retries=0)
    with pytest.raises(openai.PermissionDeniedError):
        reviewer.videos.create(prompt="a windmill")


def test_reference_image_is_checked_and_forwarded(vproxy: Proxy) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (1280, 720), (40, 120, 200)).save(buf, "PNG")
    job = vproxy.client.videos.create(
        prompt="waves on a beach", size=SIZE, input_reference=("ref.png", buf.getvalue(), "image/png")
    )
    assert [r["reference"] for r in vproxy.controls.requests if r["path"] == "videos"] == [True]
    assert _poll(vproxy, job.id).status == "completed"
    assert vproxy.last()["input_hashes"]["images"][0]["mime"] == "image/png"


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"seconds": "forever"}, 400, "invalid_value"),
        ({"size": "big"}, 400, "invalid_value"),
        ({"extra_body": {"style": "noir"}}, 400, "unknown_parameter"),
        ({"input_reference": ("x.txt", b"not an image", "text/plain")}, 400, "invalid_image_format"),
        ({"size": "640x480"}, 400, "upstream_rejected"),  # the generator's own list of sizes
        ({"seconds": "5"}, 400, "upstream_rejected"),
    ],
)
def test_bad_requests_get_openai_style_errors(vproxy: Proxy, kwargs: dict[str, Any], status: int, code: str) -> None:
    with pytest.raises(openai.APIStatusError) as ei:
        vproxy.client.videos.create(prompt="a garden", **kwargs)
    assert ei.value.status_code == status and ei.value.body["code"] == code, ei.value.body
    assert vproxy.last()["decision"] == "error"


@pytest.mark.parametrize(
    ("mode", "code"), [("fail", "video_generation_failed"), ("garbage_video", "upstream_invalid_response")]
)
def test_generator_failures_fail_the_job(vproxy: Proxy, mode: str, code: str) -> None:
    vproxy.controls.video_mode = mode
    done = _poll(vproxy, vproxy.client.videos.create(prompt="a quiet street", size=SIZE).id)
    assert done.status == "failed" and done.error is not None and done.error.code == code
    rec = vproxy.last()
    assert rec["decision"] == "error" and rec["stage"] == "upstream"
    with pytest.raises(openai.NotFoundError):
        vproxy.client.videos.download_content(done.id)
    assert "sk-upstream" not in done.error.message


def test_video_flow_on_postgresql(pg_url: str, tmp_path: Path, upstream: Any, prompt_gate: Any) -> None:
    settings = Settings(
        environment="test",
        data_dir=tmp_path / "data",
        database_url=pg_url,
        detectors="none",
        master_key="11" * 32,
        watermark_key="22" * 32,
        session_secret="s" * 32,
        index_refresh_seconds=0.2,
        video_poll_seconds=0.05,
    )
    _, c = upstream
    c.video_mode, c.fixed_video, c.video_render_s, c.video_fps = "ok", None, 0.2, 4
    with running_proxy(settings, upstream, prompt_gate, timeout_s=30.0) as p:
        done = _poll(p, p.client.videos.create(prompt="a lighthouse", size=SIZE).id)
        assert done.status == "completed"
        video = p.client.videos.download_content(done.id).content
        tracer = Tracer.for_service(p.service)  # one tracer: its frame cache follows the ledger
        res = tracer.trace(reencode(video))
        assert res.found and res.method == "vpdq" and res.generation is not None
        assert res.generation["generation_id"] == p.last()["generation_id"] and res.generation["integrity"] == "intact"
        second = _poll(p, p.client.videos.create(prompt="a harbour at night", size=SIZE).id)
        again = tracer.trace(reencode(p.client.videos.download_content(second.id).content))
        assert again.found and again.generation["generation_id"] == p.last()["generation_id"]  # added since
        assert [v.id for v in p.client.videos.list(order="asc")] == [done.id, second.id]
        from datetime import UTC, datetime, timedelta

        assert p.ledger.purge_expired(now=datetime.now(UTC) + timedelta(days=4000)) == 2
        assert not tracer.trace(reencode(video)).found  # purged rows leave the cache too
        assert list(p.client.videos.list()) == []  # and so do their jobs
        report = run_verify(p.service)  # jobs, ledger rows and frames stay verifiable through updates
        assert report["ok"], report["first_broken"]
