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
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from amparo.domain.items import Context
from amparo.domain.verdicts import Verdict
from amparo.errors import AmparoError
from amparo.proxy.flow import REFUSED_REQUEST, STOPPING, FlowOutcome, ProxyFlow, _reasons, _worst
from amparo.proxy.images_request import ImagesRequest
from amparo.proxy.ledger import LedgerEntry, new_generation_id
from amparo.proxy.openai_errors import (
    INVALID_REQUEST,
    ContentPolicyRefusal,
    ProxyError,
    error_body,
    internal_error,
)
from amparo.proxy.video_outputs import VideoFiles
from amparo.proxy.video_provider import ProviderJob, VideoProvider
from amparo.proxy.video_worker import BLOCKED_VIDEO, VideoWorker
from amparo.proxy.videos_request import VideoRequest
from amparo.store import video_gen_repo

log = logging.getLogger(__name__)

DEFAULT_MODEL, DEFAULT_SECONDS, DEFAULT_SIZE = "sora-2", "4", "720x1280"  # OpenAI's defaults


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
        self.worker = VideoWorker(self, workers=workers)

    def close(self) -> None:
        self.worker.close()

    def resume(self) -> int:
        with self.db.session() as s:
            ids = [j["video_id"] for j in video_gen_repo.unfinished_jobs(s)]
        for vid in ids:
            self.worker.enqueue(vid)
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
        setattr(entry, "recorded", True)  # noqa: B010 (a failure after this must not record it twice)
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
        self.worker.enqueue(job["video_id"])
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
            self._record(entry)
        except Exception:
            log.exception("video flow failed (generation %s)", entry.generation_id)
            internal = internal_error()
            entry.decision, entry.stage = "error", "internal"
            entry.reasons = [*entry.reasons, {"code": internal.code, "message": internal.message}]
            status, body = internal.status, error_body(internal, entry.generation_id)
            self._record(entry)
        return FlowOutcome(status, body, entry.generation_id, {"total": (time.perf_counter() - t0) * 1000})

    def _record(self, entry: LedgerEntry) -> None:
        if getattr(entry, "recorded", False):
            self.ledger.finish(entry)  # accepted, then failed: complete the row written on acceptance
        else:
            self.ledger.record(entry)

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
