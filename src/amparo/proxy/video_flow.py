"""The guard for video generation: asynchronous jobs, checked on the way in and on the way out.

    create / remix: the prompt (and any reference image: hashes, banks, nudity, faces/age forced,
      provenance, as for an image edit) through the pipeline → refused, or the job goes upstream;
      the caller gets our job id at once (the upstream's id stays in generation_video_jobs)
    → a worker polls the provider; when the video is finished it is downloaded and checked as a
      video (every sampled frame through the cascade, the bytes and frames against the banks),
      while the caller still sees status in_progress
    → blocked: preserved in the evidence vault, never served; the job fails with
      content_policy_violation
    → released: a signed C2PA manifest in the MP4; thumbnail and spritesheet drawn from the
      scanned frames; the vPDQ of the released file into the ledger, so `amparo trace` finds a
      re-encoded copy; the job completes
    → one ledger row per request, written when it is accepted (decision "pending") or refused,
      completed when the job ends.

Only the caller's own jobs (same API key) are visible to it. Jobs left unfinished by a restart are
picked up again when the proxy starts (`resume`)."""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from amparo.content.video import SampledFrame, reduce_frame
from amparo.domain.items import Context, Item, ItemKind
from amparo.domain.verdicts import Decision, Verdict
from amparo.errors import AmparoError
from amparo.pipeline_video import video_limits, video_sampling
from amparo.proxy.flow import REFUSED_REQUEST, STOPPING, FlowOutcome, ProxyFlow, _reasons, _worst
from amparo.proxy.images_request import ImagesRequest
from amparo.proxy.ledger import LedgerEntry, OutputRecord, new_generation_id
from amparo.proxy.openai_errors import (
    INVALID_REQUEST,
    ContentPolicyRefusal,
    ProxyError,
    UpstreamFailure,
    error_body,
    internal_error,
)
from amparo.proxy.video_outputs import VideoFiles, spritesheet, thumbnail
from amparo.proxy.video_provider import ProviderJob, VideoProvider
from amparo.proxy.videos_request import VideoRequest
from amparo.signals.hashes.vpdq import VpdqFrame, hash_video
from amparo.store import video_gen_repo

log = logging.getLogger(__name__)

BLOCKED_VIDEO = "The generated video was blocked by this service's safety policy and was not returned."
DEFAULT_MODEL, DEFAULT_SECONDS, DEFAULT_SIZE = "sora-2", "4", "720x1280"  # OpenAI's defaults
PREVIEW_SIDE = 720
WORKER_IDLE_S = 5.0  # a worker thread ends after this long without a job
SCANNING_PROGRESS = 99  # what the caller sees while the finished video is being checked


def new_video_id() -> str:
    return "video_" + uuid.uuid4().hex


def _ts(dt: datetime | None) -> int | None:
    return int(dt.timestamp()) if dt is not None else None


def not_found(what: str = "video") -> ProxyError:
    return ProxyError(f"no such {what}", code="not_found", status=404, error_type=INVALID_REQUEST)


class VideoFlow:
    def __init__(
        self,
        flow: ProxyFlow,
        provider: VideoProvider,
        files: VideoFiles,
        *,
        poll_s: float,
        job_timeout_s: float,
        ttl_s: float,
        workers: int = 2,
    ) -> None:
        self.flow = flow
        self.service = flow.service
        self.db = flow.service.db
        self.ledger = flow.ledger
        self.provider = provider
        self.files = files
        self.poll_s = poll_s
        self.job_timeout_s = job_timeout_s
        self.ttl_s = ttl_s
        self.max_workers = workers
        self._queue: queue.Queue[str] = queue.Queue()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._workers: list[threading.Thread] = []  # started on demand, gone when idle

    def close(self) -> None:
        self._stop.set()

    def resume(self) -> int:
        with self.db.session() as s:
            ids = [j["video_id"] for j in video_gen_repo.unfinished_jobs(s)]
        for vid in ids:
            self._enqueue(vid)
        return len(ids)

    # -- requests ------------------------------------------------------------------------------
    def create(self, req: VideoRequest, *, account: str | None, owner: str | None) -> FlowOutcome:
        ref_sha = hashlib.sha256(req.reference.data).hexdigest() if req.reference else None
        entry = self._entry(
            "video_generation", account, req.prompt, req.model, {"fields": req.forward, "reference": ref_sha}
        )

        def go() -> dict[str, Any]:
            ctx = self._context(entry)
            if req.reference is not None:
                gate = ImagesRequest(operation="edit", prompt=req.prompt, images=[req.reference])
            else:
                gate = ImagesRequest(operation="generation", prompt=req.prompt)
            verdicts = self._gate(gate, entry, ctx)
            facts = {
                "derived_from_real_photo": req.reference is not None
                and not all(self.flow._ai_made(v) for v in verdicts),
                "derived_from_possible_minor": req.reference is not None
                and any(self.flow._possible_minor(v) for v in verdicts),
                "gate_decision": _worst(verdicts).decision.value,
            }
            pj = self.provider.create(req)
            f = req.forward
            return self._accept(entry, owner, pj, f.get("model"), f.get("seconds"), f.get("size"), None, facts)

        return self._guarded(entry, go)

    def remix(self, video_id: str, prompt: str, *, account: str | None, owner: str | None) -> FlowOutcome:
        entry = self._entry("video_remix", account, prompt, None, {"source": video_id})

        def go() -> dict[str, Any]:
            with self.db.session() as s:
                src = video_gen_repo.get_job(s, video_id, owner=owner)
            if src is None:
                raise not_found()
            entry.model = src["model"]
            entry.input_hashes["remixed_from"] = {"video_id": video_id, "generation_id": src["generation_id"]}
            if src["status"] != "completed" or not src["upstream_id"]:
                raise ProxyError("only a completed video can be remixed", code="invalid_video_state", param="video_id")
            verdicts = self._gate(ImagesRequest(operation="generation", prompt=prompt), entry, self._context(entry))
            facts = {**src["facts"], "gate_decision": _worst(verdicts).decision.value}
            pj = self.provider.remix(src["upstream_id"], prompt)
            return self._accept(entry, owner, pj, src["model"], src["seconds"], src["size"], video_id, facts)

        return self._guarded(entry, go)

    def retrieve(self, video_id: str, *, owner: str | None) -> dict[str, Any]:
        with self.db.session() as s:
            job = video_gen_repo.get_job(s, video_id, owner=owner)
        if job is None:
            raise not_found()
        return self._object(job)

    def list_jobs(self, *, owner: str | None, after: str | None, limit: int, order: str) -> dict[str, Any]:
        with self.db.session() as s:
            jobs, more = video_gen_repo.list_jobs(s, owner=owner, after=after, limit=limit, order=order)
        data = [self._object(j) for j in jobs]
        return {
            "object": "list",
            "data": data,
            "first_id": data[0]["id"] if data else None,
            "last_id": data[-1]["id"] if data else None,
            "has_more": more,
        }

    def delete(self, video_id: str, *, owner: str | None) -> dict[str, Any]:
        """The job and its files go; the ledger row (and any evidence) stays for its retention."""
        with self.db.session() as s:
            job = video_gen_repo.get_job(s, video_id, owner=owner)
            if job is None:
                raise not_found()
            video_gen_repo.delete_job(s, video_id)
        self.files.delete(video_id)
        if job["upstream_id"]:
            try:
                self.provider.delete(job["upstream_id"])
            except ProxyError as e:  # the upstream copy expires on its own; say so in the log
                log.warning("upstream copy of %s not deleted: %s", video_id, e.code)
        return {"id": video_id, "object": "video.deleted", "deleted": True}

    def content(self, video_id: str, variant: str, *, owner: str | None) -> tuple[bytes, str]:
        with self.db.session() as s:
            job = video_gen_repo.get_job(s, video_id, owner=owner)
        if job is None:
            raise not_found()
        err = job["error"] or {}
        if job["status"] == "failed" and err.get("code") == "content_policy_violation":
            raise ContentPolicyRefusal(BLOCKED_VIDEO, stage="output")
        if job["status"] != "completed":
            raise ProxyError("the video is not ready", code="video_not_ready", status=404)
        if job["expires_at"] is not None and job["expires_at"] < datetime.now(UTC):
            raise ProxyError("the video has expired", code="video_expired", status=404)
        got = self.files.get(video_id, variant)
        if got is None:
            raise not_found("content")
        return got

    # -- shared steps --------------------------------------------------------------------------
    def _entry(
        self, operation: str, account: str | None, prompt: str, model: str | None, extra: dict[str, Any]
    ) -> LedgerEntry:
        return LedgerEntry(
            generation_id=new_generation_id(),
            operation=operation,
            account=account,
            request_hash=self.ledger.keys.request_hash({"operation": operation, "prompt": prompt, **extra}),
            prompt=prompt,
            model=model,
        )

    def _context(self, entry: LedgerEntry) -> Context:
        return Context(
            account=entry.account,
            surface=entry.operation,
            source="proxy",
            extra=(("generation_id", entry.generation_id),),
        )

    def _gate(self, req: ImagesRequest, entry: LedgerEntry, ctx: Context) -> list[Verdict]:
        verdicts = self.flow._gate(req, entry, ctx)
        worst = _worst(verdicts)
        entry.decision, entry.reasons = worst.decision.value, _reasons(worst)
        if worst.decision in STOPPING:
            entry.stage = "request" if (worst.rule or "").startswith("request.") else "input"
            raise ContentPolicyRefusal(REFUSED_REQUEST, stage=entry.stage, verdict=worst)
        return verdicts

    def _accept(
        self,
        entry: LedgerEntry,
        owner: str | None,
        pj: ProviderJob,
        model: str | None,
        seconds: str | None,
        size: str | None,
        remixed_from: str | None,
        facts: dict[str, Any],
    ) -> dict[str, Any]:
        entry.decision, entry.stage = "pending", "upstream"
        self.ledger.record(entry)
        with self.db.session() as s:
            job = video_gen_repo.create_job(
                s,
                video_id=new_video_id(),
                generation_id=entry.generation_id,
                owner=owner,
                account=entry.account[:200] if entry.account else None,
                upstream_id=pj.id,
                status="queued",
                progress=0,
                model=model,
                seconds=seconds,
                size=size,
                remixed_from=remixed_from,
                facts=facts,
                content={},
            )
        self._enqueue(job["video_id"])
        return self._object(job, prompt=entry.prompt)

    def _guarded(self, entry: LedgerEntry, go: Any) -> FlowOutcome:
        t0 = time.perf_counter()
        try:
            body, status = go(), 200
        except ProxyError as e:
            entry.stage = entry.stage or e.stage
            if isinstance(e, ContentPolicyRefusal) and e.stage == "upstream":
                entry.decision, entry.reasons = "refuse", [{"code": e.code, "message": e.message}]
            elif not isinstance(e, ContentPolicyRefusal):
                entry.decision = "error"
                entry.reasons = [*entry.reasons, {"code": e.code, "message": e.message}]
            status, body = e.status, error_body(e, entry.generation_id)
            self.ledger.record(entry)
        except Exception:
            log.exception("video flow failed (generation %s)", entry.generation_id)
            internal = internal_error()
            entry.decision, entry.stage = "error", "internal"
            entry.reasons = [*entry.reasons, {"code": internal.code, "message": internal.message}]
            status, body = internal.status, error_body(internal, entry.generation_id)
            self.ledger.record(entry)
        return FlowOutcome(status, body, entry.generation_id, {"total": (time.perf_counter() - t0) * 1000})

    def _object(self, job: dict[str, Any], prompt: str | None = None) -> dict[str, Any]:
        if prompt is None:
            try:
                prompt = self.ledger.read_prompt(job["generation_id"])
            except AmparoError:
                prompt = None
        return {
            "id": job["video_id"],
            "object": "video",
            "model": job["model"] or DEFAULT_MODEL,
            "status": job["status"],
            "progress": job["progress"],
            "created_at": _ts(job["created_at"]) or int(time.time()),
            "completed_at": _ts(job["completed_at"]),
            "expires_at": _ts(job["expires_at"]),
            "prompt": prompt,
            "seconds": job["seconds"] or DEFAULT_SECONDS,
            "size": job["size"] or DEFAULT_SIZE,
            "remixed_from_video_id": job["remixed_from"],
            "error": job["error"],
            "amparo": {"generation_id": job["generation_id"], "c2pa": job["status"] == "completed"},
        }

    # -- the worker ------------------------------------------------------------------------------
    def _enqueue(self, vid: str) -> None:
        with self._lock:
            self._queue.put(vid)
            if len(self._workers) < self.max_workers and not self._stop.is_set():
                t = threading.Thread(target=self._work, name="amparo-video-job", daemon=True)
                self._workers.append(t)
                t.start()

    def _work(self) -> None:
        me = threading.current_thread()
        while not self._stop.is_set():
            try:
                vid = self._queue.get(timeout=WORKER_IDLE_S)
            except queue.Empty:
                with self._lock:  # _enqueue holds the lock: no job can slip in between
                    if self._queue.empty():
                        self._workers.remove(me)
                        return
                continue
            try:
                self._process(vid)
            except Exception:
                log.exception("video job %s failed inside the proxy", vid)
                self._fail(vid, "internal", internal_error())

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
