"""The video guard's worker threads: poll the provider, scan the finished video, then block
(evidence, never served) or release (C2PA-signed MP4, previews from the scanned frames, vPDQ into
the ledger). See video_flow.py for the whole flow."""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from amparo.content.video import SampledFrame, reduce_frame
from amparo.domain.items import Context, Item, ItemKind
from amparo.domain.verdicts import Decision
from amparo.errors import AmparoError
from amparo.pipeline_video import video_limits, video_sampling
from amparo.proxy.flow import STOPPING, _reasons
from amparo.proxy.ledger import LedgerEntry, OutputRecord
from amparo.proxy.openai_errors import ContentPolicyRefusal, ProxyError, UpstreamFailure, internal_error
from amparo.proxy.video_outputs import spritesheet, thumbnail
from amparo.signals.hashes.vpdq import VpdqFrame, hash_video
from amparo.store import video_gen_repo

if TYPE_CHECKING:
    from amparo.proxy.video_flow import VideoFlow

log = logging.getLogger(__name__)

BLOCKED_VIDEO = "The generated video was blocked by this service's safety policy and was not returned."
PREVIEW_SIDE = 720
WORKER_IDLE_S = 5.0  # a worker thread ends after this long without a job
SCANNING_PROGRESS = 99  # what the caller sees while the finished video is being checked


class VideoWorker:
    def __init__(self, videos: VideoFlow, *, workers: int) -> None:
        self.flow = videos.flow
        self.service = videos.service
        self.db = videos.db
        self.ledger = videos.ledger
        self.provider = videos.provider
        self.files = videos.files
        self.poll_s = videos.poll_s
        self.job_timeout_s = videos.job_timeout_s
        self.ttl_s = videos.ttl_s
        self.max_workers = workers
        self._queue: queue.Queue[str] = queue.Queue()
        self._stop = threading.Event()
        self._lock = threading.RLock()
        self._workers: list[threading.Thread] = []  # started on demand, gone when idle

    def close(self) -> None:
        self._stop.set()

    def enqueue(self, vid: str) -> None:
        with self._lock:
            self._queue.put(vid)
            if len(self._workers) < self.max_workers and not self._stop.is_set():
                t = threading.Thread(target=self._work, name="amparo-video-job", daemon=True)
                self._workers.append(t)
                t.start()

    def _work(self) -> None:
        me = threading.current_thread()
        try:
            while not self._stop.is_set():
                try:
                    vid = self._queue.get(timeout=WORKER_IDLE_S)
                except queue.Empty:
                    with self._lock:  # _enqueue holds the lock: no job can slip in between
                        if self._queue.empty():
                            return
                    continue
                try:
                    self._process(vid)
                except Exception:
                    log.exception("video job %s failed inside the proxy", vid)
                    try:
                        self._fail(vid, "internal", internal_error())
                    except Exception:  # the database itself is gone: the job stays for resume()
                        log.exception("video job %s could not be marked failed", vid)
        finally:
            with self._lock:
                if me in self._workers:
                    self._workers.remove(me)

    def _update(self, vid: str, **fields: Any) -> None:
        with self.db.session() as s:
            video_gen_repo.update_job(s, vid, **fields)

    def _process(self, vid: str) -> None:
        with self.db.session() as s:
            job = video_gen_repo.get_job(s, vid, any_owner=True)
        if job is None or job["status"] in video_gen_repo.TERMINAL:
            return
        deadline = (job["created_at"] or datetime.now(UTC)) + timedelta(seconds=self.job_timeout_s)
        try:
            while True:
                pj = self.provider.retrieve(job["upstream_id"])
                if pj.status == "completed":
                    break
                if pj.status == "failed":
                    raise UpstreamFailure(
                        "the video generator could not make this video", code=pj.error_code or "video_generation_failed"
                    )
                if datetime.now(UTC) > deadline:
                    raise UpstreamFailure(
                        "the video generator did not finish in time", code="upstream_timeout", status=504
                    )
                self._update(vid, status=pj.status, progress=min(pj.progress, SCANNING_PROGRESS - 1))
                if self._stop.wait(self.poll_s):
                    return  # shutting down: resume() picks it up at the next start
            self._update(vid, status="in_progress", progress=SCANNING_PROGRESS)
            data = self.provider.download(job["upstream_id"])
        except ProxyError as e:
            if isinstance(e, ContentPolicyRefusal):  # the upstream's own moderation
                self._fail(vid, "upstream", e, decision="refuse")
            else:
                self._fail(vid, "upstream", e)
            return
        self._finish(job, data)

    def _finish(self, job: dict[str, Any], data: bytes) -> None:
        vid, gid = job["video_id"], job["generation_id"]
        facts = {k: v for k, v in job["facts"].items() if k.startswith("derived_")}
        ctx = Context(
            account=job["account"],
            surface="video_generation",
            source="proxy",
            extra=(("generation_id", gid), ("video_id", vid)),
        )
        entry = LedgerEntry(generation_id=gid, operation="", account=job["account"], request_hash="")
        rec = self.ledger.get(gid) or {}
        try:
            v = self.flow.pipeline.check(Item(kind=ItemKind.VIDEO, image=data, context=ctx), extra_facts=facts)
        except AmparoError as e:
            log.warning("upstream video refused by the decoder: %s", e.code)
            self._fail(
                vid,
                "upstream",
                UpstreamFailure("the video generator returned an invalid video", code="upstream_invalid_response"),
            )
            return
        if v.decision in STOPPING:
            ref = self.flow._preserve(data, v, kind="generated_video")
            entry.outputs = [
                OutputRecord(
                    0,
                    hashlib.sha256(data).hexdigest(),
                    None,
                    None,
                    v.decision.value,
                    labels=list(v.labels),
                    returned=False,
                    evidence_ref=ref,
                    event_id=v.event_id,
                )
            ]
            entry.decision, entry.stage, entry.reasons = v.decision.value, "output", _reasons(v)
            self.ledger.finish(entry)
            err = {"code": "content_policy_violation", "message": f"{BLOCKED_VIDEO} (reference {gid})"}
            self._update(vid, status="failed", progress=100, error=err, completed_at=datetime.now(UTC))
            return
        signed = self.flow.stamper.sign_video(data, generation_id=gid, model=job["model"])
        previews: list[np.ndarray] = []

        def keep(fr: SampledFrame, _: VpdqFrame) -> None:
            previews.append(np.ascontiguousarray(reduce_frame(fr.rgb, PREVIEW_SIDE)))

        settings = self.service.settings
        vh = hash_video(signed, sampling=video_sampling(settings), limits=video_limits(settings), on_frame=keep)
        stamper = self.flow.stamper
        files = {
            "video": signed,
            "thumbnail": stamper.sign_preview(
                thumbnail(previews[0]), "image/webp", generation_id=gid, model=job["model"]
            ),
            "spritesheet": stamper.sign_preview(
                spritesheet(previews), "image/jpeg", generation_id=gid, model=job["model"]
            ),
        }
        self.files.sweep(self.ttl_s)  # released files past their expiry go
        for variant, blob in files.items():
            self.files.put(vid, variant, blob)
        good = [f for f in vh.frames if f.quality >= 50] or list(vh.frames)
        entry.outputs = [
            OutputRecord(
                0,
                hashlib.sha256(signed).hexdigest(),
                good[0].hash if good else None,
                None,
                v.decision.value,
                labels=list(v.labels),
                returned=True,
                event_id=v.event_id,
            )
        ]
        gate = Decision(job["facts"].get("gate_decision", "allow"))
        if v.decision.severity > gate.severity or not rec.get("reasons"):
            entry.decision, entry.reasons = v.decision.value, _reasons(v)
        else:
            entry.decision, entry.reasons = gate.value, list(rec["reasons"])
        entry.stage = "output"
        self.ledger.finish(entry, video_frames={0: list(vh.frames)})
        now = datetime.now(UTC)
        self._update(
            vid,
            status="completed",
            progress=100,
            completed_at=now,
            expires_at=now + timedelta(seconds=self.ttl_s),
            content={k: hashlib.sha256(b).hexdigest() for k, b in files.items()},
        )

    def _fail(self, vid: str, stage: str, e: ProxyError, *, decision: str = "error") -> None:
        with self.db.session() as s:
            job = video_gen_repo.get_job(s, vid, any_owner=True)
        if job is None:
            return
        entry = LedgerEntry(generation_id=job["generation_id"], operation="", account=job["account"], request_hash="")
        rec = self.ledger.get(job["generation_id"]) or {}
        entry.decision, entry.stage = decision, stage
        entry.reasons = [*(rec.get("reasons") or []), {"code": e.code, "message": e.message}]
        self.ledger.finish(entry)
        err = {"code": e.code, "message": f"{e.message} (reference {job['generation_id']})"}
        self._update(vid, status="failed", progress=100, error=err, completed_at=datetime.now(UTC))
