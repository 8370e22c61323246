"""One request through the generation guard, start to finish.

    request gate (prompt; for edits also every input image: hashes, bank matching, nudity,
    faces/age forced, provenance) → refuse, or forward to the upstream
    → every returned image through the pipeline as a generated_image
      (`derived_from_real_photo` is set for edits unless the input says it is AI-made;
      `derived_from_possible_minor` when an input face is an apparent minor or its age is unsure:
      the edit is then treated as about a possible minor, and any nudity in an output is
      csam_suspected whatever age the output's faces appear)
    → any blocked output: preserved in the evidence vault, never returned; the caller is refused
    → allowed outputs: watermark (a fresh 63-bit id per image) then signed C2PA manifest
    → one ledger row per request, whatever happened (allowed, refused, blocked, failed).

Refusals do not name the label (that would help tune an attack); the ledger and the events do.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from amparo.domain.items import Context, Item, ItemKind
from amparo.domain.verdicts import Decision, Verdict
from amparo.errors import AmparoError, TooLarge
from amparo.pipeline import Analysis
from amparo.proxy.images_request import ImagesRequest
from amparo.proxy.ledger import (
    GenerationLedger,
    LedgerEntry,
    OutputRecord,
    new_generation_id,
    new_watermark_id,
)
from amparo.proxy.media_store import MediaStore
from amparo.proxy.openai_errors import (
    ContentPolicyRefusal,
    ProxyError,
    RequestRejected,
    UpstreamFailure,
    error_body,
    internal_error,
)
from amparo.proxy.stamping import Stamper
from amparo.proxy.upstream import UpstreamClient

log = logging.getLogger(__name__)

STOPPING = (Decision.REFUSE, Decision.BLOCK)
REFUSED_REQUEST = "Your request was refused by this service's safety policy."
BLOCKED_OUTPUT = "The generated image was blocked by this service's safety policy and was not returned."
MEDIA_ROUTE = "v1/images/files/"


@dataclass
class FlowOutcome:
    status: int
    body: dict[str, Any]
    generation_id: str
    timings_ms: dict[str, float] = field(default_factory=dict)


def _reasons(v: Verdict) -> list[dict[str, Any]]:
    # no evidence: for prompts it quotes the (encrypted) prompt's words
    return [
        {
            "rule": r.rule,
            "label": r.label,
            "decision": r.decision.value,
            "description": r.description,
        }
        for r in v.reasons
    ]


def _worst(verdicts: list[Verdict]) -> Verdict:
    return max(verdicts, key=lambda v: v.decision.severity)


class ProxyFlow:
    def __init__(
        self,
        service: Any,
        *,
        upstream: UpstreamClient,
        stamper: Stamper,
        ledger: GenerationLedger,
        media: MediaStore,
    ) -> None:
        self.service = service
        self.pipeline = service.pipeline
        self.upstream = upstream
        self.stamper = stamper
        self.ledger = ledger
        self.media = media

    # -- entry points ----------------------------------------------------------------------
    def run(self, req: ImagesRequest, *, account: str | None, base_url: str) -> FlowOutcome:
        t0 = time.perf_counter()
        gid = new_generation_id()
        entry = LedgerEntry(
            generation_id=gid,
            operation=req.operation,
            account=account,
            request_hash=self._request_hash(req),
            prompt=req.prompt,
            model=req.model,
        )
        timings: dict[str, float] = {}
        try:
            body = self._run(req, entry, base_url, timings)
            status = 200
        except ProxyError as e:
            entry.stage = entry.stage or e.stage
            if isinstance(e, ContentPolicyRefusal):
                if e.stage == "upstream":
                    entry.decision, entry.reasons = (
                        "refuse",
                        [{"code": e.code, "message": e.message}],
                    )
            else:
                entry.decision = "error"
                entry.reasons = [*entry.reasons, {"code": e.code, "message": e.message}]
            status, body = e.status, error_body(e, gid)
        except Exception:
            log.exception("proxy flow failed (generation %s)", gid)  # the trace stays in the log
            internal = internal_error()
            entry.decision, entry.stage = "error", "internal"
            entry.reasons = [*entry.reasons, {"code": internal.code, "message": internal.message}]
            status, body = internal.status, error_body(internal, gid)
        self.ledger.record(entry)
        timings["total"] = (time.perf_counter() - t0) * 1000
        return FlowOutcome(status, body, gid, timings)

    def record_rejection(self, operation: str, account: str | None, err: ProxyError, raw: bytes) -> FlowOutcome:
        """An unparseable request: an error row in the ledger, the error to the caller."""
        gid = new_generation_id()
        entry = LedgerEntry(
            generation_id=gid,
            operation=operation,
            account=account,
            request_hash=self.ledger.keys.request_hash({"raw_sha256": hashlib.sha256(raw).hexdigest()}),
            decision="error",
            stage=err.stage,
            reasons=[{"code": err.code, "message": err.message}],
        )
        self.ledger.record(entry)
        return FlowOutcome(err.status, error_body(err, gid), gid)

    # -- the flow ------------------------------------------------------------------------------
    def _request_hash(self, req: ImagesRequest) -> str:
        return self.ledger.keys.request_hash(
            {
                "operation": req.operation,
                "prompt": req.prompt,
                "n": req.n,
                "fields": req.forward,
                "images": [hashlib.sha256(i.data).hexdigest() for i in req.images],
                "mask": hashlib.sha256(req.mask.data).hexdigest() if req.mask else None,
            }
        )

    def _context(self, req: ImagesRequest, entry: LedgerEntry) -> Context:
        return Context(
            account=entry.account,
            surface=req.operation,
            source="proxy",
            extra=(("generation_id", entry.generation_id),),
        )

    def _run(self, req: ImagesRequest, entry: LedgerEntry, base_url: str, timings: dict[str, float]) -> dict[str, Any]:
        ctx = self._context(req, entry)
        t = time.perf_counter()
        verdicts = self._gate(req, entry, ctx)
        timings["gate"] = (time.perf_counter() - t) * 1000
        worst = _worst(verdicts)
        entry.decision, entry.reasons = worst.decision.value, _reasons(worst)
        if worst.decision in STOPPING:
            entry.stage = "request" if (worst.rule or "").startswith("request.") else "input"
            raise ContentPolicyRefusal(REFUSED_REQUEST, stage=entry.stage, verdict=worst)
        derived = req.operation == "edit" and not all(self._ai_made(v) for v in verdicts)
        possible_minor = req.operation == "edit" and any(self._possible_minor(v) for v in verdicts)
        user = self.ledger.keys.account_pseudonym(entry.account) if entry.account else None
        result = (
            self.upstream.edit(req, user=user) if req.operation == "edit" else self.upstream.generate(req, user=user)
        )
        timings["upstream"] = result.elapsed_s * 1000
        t = time.perf_counter()
        checked = [
            (i, img, self._check_output(img.data, ctx, derived, possible_minor)) for i, img in enumerate(result.images)
        ]
        timings["outputs"] = (time.perf_counter() - t) * 1000
        blocked = [(i, img, v) for i, img, v in checked if v.decision in STOPPING]
        if blocked:
            for i, img, v in checked:
                is_blocked = v.decision in STOPPING
                entry.outputs.append(
                    OutputRecord(
                        index=i,
                        sha256=hashlib.sha256(img.data).hexdigest(),
                        pdq=_pdq(v),
                        watermark_id=None,
                        decision=v.decision.value,
                        labels=list(v.labels),
                        returned=False,
                        event_id=v.event_id,
                        evidence_ref=self._preserve(img.data, v) if is_blocked else None,
                    )
                )
            w = _worst([v for _, _, v in blocked])
            entry.decision, entry.stage, entry.reasons = w.decision.value, "output", _reasons(w)
            raise ContentPolicyRefusal(BLOCKED_OUTPUT, stage="output", verdict=w)
        t = time.perf_counter()
        data: list[dict[str, Any]] = []
        for i, img, v in checked:
            stamped = self.stamper.stamp(
                img.data,
                generation_id=entry.generation_id,
                watermark_id=new_watermark_id(),
                edit=req.operation == "edit",
                model=req.model,
                parent=(req.images[0].data, req.images[0].mime) if req.images else None,
            )
            entry.outputs.append(
                OutputRecord(
                    index=i,
                    sha256=stamped.sha256,
                    pdq=stamped.pdq,
                    pdq_centre=stamped.pdq_centre,
                    watermark_id=stamped.watermark_id,
                    decision=v.decision.value,
                    labels=list(v.labels),
                    returned=True,
                    event_id=v.event_id,
                )
            )
            item: dict[str, Any] = {}
            if req.response_format == "url":
                item["url"] = base_url.rstrip("/") + "/" + MEDIA_ROUTE + self.media.put(stamped.data)
            else:
                item["b64_json"] = base64.b64encode(stamped.data).decode("ascii")
            if img.revised_prompt:
                item["revised_prompt"] = img.revised_prompt
            data.append(item)
        timings["stamp"] = (time.perf_counter() - t) * 1000
        out_worst = _worst([v for _, _, v in checked])
        if out_worst.decision.severity > worst.decision.severity:
            entry.decision, entry.reasons = out_worst.decision.value, _reasons(out_worst)
        entry.stage = "output"
        return {
            "created": int(time.time()),
            "data": data,
            "amparo": {
                "generation_id": entry.generation_id,
                "outputs": [
                    {
                        "decision": o.decision,
                        "labels": o.labels,
                        "watermarked": o.watermark_id is not None,
                        "c2pa": True,
                    }
                    for o in entry.outputs
                ],
            },
        }

    def _gate(self, req: ImagesRequest, entry: LedgerEntry, ctx: Context) -> list[Verdict]:
        p = self.pipeline
        if req.operation == "generation":
            try:
                return [p.check(Item.from_prompt(req.prompt, ctx))]
            except AmparoError as e:
                raise _as_rejection(e, "prompt") from None
        if req.mask is not None:
            try:
                p.decode(req.mask.data)
            except AmparoError as e:
                raise _as_rejection(e, "mask") from None
            entry.input_hashes["mask"] = {"sha256": hashlib.sha256(req.mask.data).hexdigest()}
        verdicts: list[Verdict] = []
        entry.input_hashes["images"] = []
        for img in req.images:
            item = Item.from_edit(req.prompt, img.data, ctx)
            a = Analysis()
            try:
                p.analyse_prompt(req.prompt, a)
                p.analyse_image(img.data, force_faces=True, a=a)  # faces/age always, whatever the cascade
            except AmparoError as e:
                raise _as_rejection(e, "image") from None
            v = p.decide(item, a)
            entry.input_hashes["images"].append(
                {
                    "mime": img.mime,
                    **{s.type: s.value for s in v.signals if s.type in ("sha256", "pdq")},
                }
            )
            verdicts.append(v)
        return verdicts

    def _ai_made(self, v: Verdict) -> bool:
        threshold = float(self.pipeline.policy.thresholds.get("ai_generated", 0.5))
        return any(
            c.stage == "provenance" and not c.error and c.score("ai_generated") >= threshold for c in v.classifications
        )

    def _possible_minor(self, v: Verdict) -> bool:
        """An input face is an apparent minor, or one whose age could not be judged (unsure)."""
        th = self.pipeline.policy.thresholds
        review = float(th.get("minor_review", th.get("minor", 0.5)))
        return any(
            c.stage == "faces_age" and not c.error and (c.score("unsure_faces") >= 1 or c.score("minor") >= review)
            for c in v.classifications
        )

    def _check_output(self, data: bytes, ctx: Context, derived: bool, possible_minor: bool = False) -> Verdict:
        item = Item(kind=ItemKind.GENERATED_IMAGE, image=data, context=ctx)
        facts = {"derived_from_real_photo": derived, "derived_from_possible_minor": possible_minor}
        try:
            return self.pipeline.check(item, extra_facts=facts)
        except AmparoError as e:
            log.warning("upstream image refused by the decoder: %s", e.code)
            raise UpstreamFailure(
                "the image generator returned an invalid image", code="upstream_invalid_response"
            ) from None

    def _preserve(self, data: bytes, v: Verdict, kind: str = "generated_image") -> str | None:
        """The evidence reference of a blocked output: the policy's quarantine action usually took
        it; otherwise it is captured here. Without a vault nothing can be preserved (logged)."""
        done = (v.extra.get("action_results") or {}).get("quarantine")
        if isinstance(done, dict) and done.get("evidence_ref"):
            return str(done["evidence_ref"])
        vault = getattr(self.service, "vault", None)
        if vault is None:
            log.error(
                "blocked output not preserved: no evidence vault is configured (event %s)",
                v.event_id,
            )
            return None
        with self.service.db.session() as s:
            row = vault.capture(
                s,
                data=data,
                item_id=v.item_id,
                event_id=v.event_id,
                profile=v.profile,
                metadata={
                    "kind": kind,
                    "decision": v.decision.value,
                    "labels": list(v.labels),
                    "rule": v.rule,
                    "source": "proxy",
                },
            )
            return str(row.ref)


def _pdq(v: Verdict) -> str | None:
    return next((s.value for s in v.signals if s.type == "pdq"), None)


def _as_rejection(e: AmparoError, param: str) -> RequestRejected:
    if isinstance(e, TooLarge):
        return RequestRejected(
            f"'{param}' is over a size limit: {e.message}",
            param=param,
            code="image_too_large" if param != "prompt" else "string_above_max_length",
            status=413 if param != "prompt" else 400,
        )
    code = (
        "invalid_image_format"
        if e.code == "unsupported_media"
        else ("invalid_image" if param != "prompt" else "invalid_value")
    )
    return RequestRejected(f"'{param}' could not be used: {e.message}", param=param, code=code)
