"""check(item) → Verdict: the whole flow on one screen.

content (decode, limits) → signals (hashes) → matching (banks) → cascade of detectors
(provenance → nudity → faces/age where needed; the prompt gate for text) → policy (pure) →
actions (in the same transaction as the event, committed before the caller answers)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from amparo.actions.base import ActionContext, ActionRegistry
from amparo.content.images import DecodedImage, decode_image
from amparo.domain.items import Item, ItemKind
from amparo.domain.signals import Classification, Signal
from amparo.domain.verdicts import StageRun, Verdict
from amparo.errors import AmparoError, BadInput, TooLarge
from amparo.matching.matcher import LookupResult, Matcher
from amparo.pipeline_video import VideoAnalyser
from amparo.policy.engine import PolicyEngine
from amparo.policy.facts import Facts
from amparo.settings import Settings
from amparo.signals.registry import DetectorRegistry, SignalRegistry
from amparo.store import events_repo
from amparo.store.database import Database
from amparo.store.event_writer import EventWriter

ATTEMPT_WINDOW = timedelta(hours=24)
IMAGE_STAGES = ("provenance", "nudity", "faces_age")
# Stages that the cascade may skip and a caller may ask for anyway (`amparo check --stage`).
FORCEABLE_STAGES = ("faces_age",)


@dataclass
class Analysis:
    """Everything computed for one item before the policy runs (explain prints it)."""

    decoded: DecodedImage | None = None
    signals: list[Signal] = field(default_factory=list)
    lookup: LookupResult = field(default_factory=lambda: LookupResult((), (), ()))
    classifications: list[Classification] = field(default_factory=list)
    stages: list[StageRun] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    video: dict[str, Any] | None = None  # a video's sampling, facts, per-frame scores (pipeline_video.py)
    video_facts: dict[str, Any] = field(default_factory=dict)  # aggregate facts the policy reads


class Pipeline:
    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        signals: SignalRegistry,
        detectors: DetectorRegistry,
        matcher: Matcher,
        policy: PolicyEngine,
        actions: ActionRegistry,
        prompt_detector: Callable[[], Any] | None = None,
        video_matcher: Any = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.signals = signals
        self.detectors = detectors
        self.matcher = matcher
        self.policy = policy
        self.actions = actions
        self._prompt_factory = prompt_detector
        self._prompt: Any = None
        self.video = VideoAnalyser(self, video_matcher) if video_matcher is not None else None
        self.events = EventWriter(db)

    # -- stages --------------------------------------------------------------------------------
    def pixels_for_detectors(self) -> bool:
        """True when an image stage has a detector: only then is a reduced-scale decode worth making
        for them. Without detectors the image is decoded once, at full size, for PDQ's hash of record."""
        return any(self.detectors.names_for_stage(stage) for stage in IMAGE_STAGES)

    def decode(self, data: bytes) -> DecodedImage:
        s = self.settings
        return decode_image(
            data,
            max_bytes=s.max_upload_bytes,
            max_pixels=s.max_image_pixels,
            max_frames=s.max_animation_frames,
            max_side=s.analysis_max_side if self.pixels_for_detectors() else None,
            max_decode_pixels=s.max_decode_pixels,
            max_decode_seconds=s.max_decode_seconds,
        )

    def hash_image(self, decoded: DecodedImage, data: bytes) -> list[Signal]:
        out = []
        for hasher in self.signals:
            sig = hasher.hash_image(decoded, data)
            if sig is not None:
                out.append(sig)
        return out

    def hash_of_record(self, decoded: DecodedImage, data: bytes) -> list[Signal]:
        """Hashes to store, export or share: each hasher's reference value, never a lookup shortcut."""
        out = []
        for hasher in self.signals:
            exact = getattr(hasher, "hash_of_record", None)
            sig = exact(decoded, data) if exact is not None else hasher.hash_image(decoded, data)
            if sig is not None:
                out.append(sig)
        return out

    def _run_stage(self, stage: str, decoded: DecodedImage, data: bytes, a: Analysis) -> None:
        t0 = time.perf_counter()
        names = self.detectors.names_for_stage(stage)
        if not names:
            a.stages.append(StageRun(stage, False, note="no detector registered"))
            return
        for name in names:
            t1 = time.perf_counter()
            try:
                c = self.detectors.get(name).classify(decoded, data)
                if not c.stage:
                    c = dataclasses.replace(c, stage=stage)
            except Exception as e:  # a failing detector never silently allows: the policy sees the error
                msg = f"{e.__class__.__name__}: {e}"
                c = Classification(detector=name, stage=stage, error=msg, elapsed_ms=(time.perf_counter() - t1) * 1000)
                a.errors.append(f"{name}: {msg}")
            a.classifications.append(c)
        a.stages.append(StageRun(stage, True, (time.perf_counter() - t0) * 1000))

    def _stage_score(self, a: Analysis, stage: str, key: str) -> float:
        vals = [c.scores[key] for c in a.classifications if c.stage == stage and not c.error and key in c.scores]
        return max(vals) if vals else 0.0

    def _stage_failed(self, a: Analysis, stage: str) -> bool:
        return any(c.error for c in a.classifications if c.stage == stage)

    def analyse_image(self, data: bytes, *, force_faces: bool = False, a: Analysis | None = None) -> Analysis:
        a = a or Analysis()
        t0 = time.perf_counter()
        a.decoded = self.decode(data)
        a.stages.append(StageRun("content", True, (time.perf_counter() - t0) * 1000))
        t0 = time.perf_counter()
        a.signals = self.hash_image(a.decoded, data)
        a.stages.append(StageRun("hashes", True, (time.perf_counter() - t0) * 1000))
        t0 = time.perf_counter()
        a.lookup = self.matcher.lookup(a.signals)
        a.stages.append(StageRun("matching", True, (time.perf_counter() - t0) * 1000))
        cascade = self.policy.document.cascade
        known = any(m.bank_category in ("csam", "ncii") and m.opinion == "positive" for m in a.lookup.matches)
        if known and cascade.stop_on_known_match:
            for st in IMAGE_STAGES:
                a.stages.append(StageRun(st, False, note="skipped: known hash match decides"))
            return a
        self._run_stage("provenance", a.decoded, data, a)
        self._run_stage("nudity", a.decoded, data, a)
        nudity = self._stage_score(a, "nudity", "nudity")
        if force_faces or nudity >= cascade.faces_age_if_nudity_gte or self._stage_failed(a, "nudity"):
            self._run_stage("faces_age", a.decoded, data, a)
        else:
            a.stages.append(
                StageRun("faces_age", False, note=f"skipped: nudity {nudity:.3f} < {cascade.faces_age_if_nudity_gte}")
            )
        return a

    def prompt_detector(self) -> Any:
        if self._prompt is None:
            if self._prompt_factory is None:
                raise AmparoError("no prompt gate configured", code="no_prompt_gate")
            self._prompt = self._prompt_factory()
        return self._prompt

    def analyse_prompt(self, text: str, a: Analysis) -> None:
        if len(text) > self.settings.max_prompt_chars:
            raise TooLarge(f"prompt is {len(text)} characters; the limit is {self.settings.max_prompt_chars}")
        t0 = time.perf_counter()
        a.classifications.append(self.prompt_detector().classify_text(text))
        a.stages.append(StageRun("prompt", True, (time.perf_counter() - t0) * 1000))

    # -- the flow ------------------------------------------------------------------------------
    def analyse(self, item: Item, *, stages: tuple[str, ...] = ()) -> Analysis:
        """`stages`: stages to run whatever the cascade decides (FORCEABLE_STAGES), to audit them."""
        unknown = [s for s in stages if s not in FORCEABLE_STAGES]
        if unknown:
            raise BadInput(
                f"unknown stage {unknown[0]!r}; stages that can be forced: {', '.join(FORCEABLE_STAGES)}",
                code="unknown_stage",
            )
        a = Analysis()
        if item.kind in (ItemKind.PROMPT, ItemKind.EDIT_REQUEST):
            if item.text is None:
                raise BadInput("a prompt is required", code="missing_prompt")
            self.analyse_prompt(item.text, a)
        if item.kind == ItemKind.PROMPT:
            return a
        if item.kind == ItemKind.VIDEO:
            if item.image is None or self.video is None:
                raise BadInput("a video is required", code="missing_video")
            return self.video.analyse(item.image, a)
        if item.image is None:
            raise BadInput("an image is required", code="missing_image")
        force_faces = "faces_age" in stages or (
            item.kind == ItemKind.EDIT_REQUEST and self.policy.document.cascade.faces_age_on_edit_requests
        )
        return self.analyse_image(item.image, force_faces=force_faces, a=a)

    def facts(
        self, item: Item, a: Analysis, attempts: dict[str, int] | None = None, extra: dict[str, Any] | None = None
    ) -> Facts:
        ctx_extra: dict[str, Any] = {k: (v == "true" if v in ("true", "false") else v) for k, v in item.context.extra}
        return Facts(
            kind=item.kind,
            context=item.context,
            matches=a.lookup.matches,
            suppressed=a.lookup.suppressed,
            classifications=tuple(a.classifications),
            stages_run=tuple(s.name for s in a.stages if s.ran),
            attempts=attempts or {},
            extra={**ctx_extra, **(extra or {})},
        )

    def check(
        self,
        item: Item,
        *,
        record: bool = True,
        extra_facts: dict[str, Any] | None = None,
        stages: tuple[str, ...] = (),
    ) -> Verdict:
        a = self.analyse(item, stages=stages)
        return self.decide(item, a, record=record, extra_facts=extra_facts)

    def decide(
        self, item: Item, a: Analysis, *, record: bool = True, extra_facts: dict[str, Any] | None = None
    ) -> Verdict:
        t0 = time.perf_counter()
        attempts: dict[str, int] = {}
        if item.context.account and item.kind in (ItemKind.PROMPT, ItemKind.EDIT_REQUEST):
            with self.db.session() as s:
                # +1: this attempt counts too, so the Nth attempt is the one that escalates.
                n = events_repo.count_attempts(
                    s, account=item.context.account, label="csam_request", within=ATTEMPT_WINDOW
                )
                attempts["csam_request"] = n + 1
        facts = self.facts(item, a, attempts, {**a.video_facts, **(extra_facts or {})})
        result = self.policy.evaluate(facts)
        a.stages.append(StageRun("policy", True, (time.perf_counter() - t0) * 1000))
        verdict = Verdict(
            item_id=item.id,
            decision=result.decision,
            labels=result.labels,
            reasons=result.reasons,
            actions=result.actions,
            signals=tuple(a.signals),
            matches=a.lookup.matches,
            classifications=tuple(a.classifications),
            stages=tuple(a.stages),
            policy=self.policy.name,
            profile=self.policy.profile_name,
            errors=tuple(a.errors),
            extra={"suppressed_matches": [m.to_dict() for m in a.lookup.suppressed]} if a.lookup.suppressed else {},
        )
        if a.video is not None:
            verdict.extra["video"] = a.video
        if not record:
            return verdict
        if not any(self.actions.has(name) for name in verdict.actions):
            # Nothing but the event to write: share a commit with concurrent checks (group commit).
            return dataclasses.replace(verdict, event_id=self.events.record(item, verdict))
        with self.db.session() as s:
            event_id = events_repo.record_event(s, item=item, verdict=verdict)
            verdict = dataclasses.replace(verdict, event_id=event_id)
            ctx = ActionContext(item=item, verdict=verdict, session=s, event_id=event_id, decoded=a.decoded)
            results = self.actions.run(verdict.actions, ctx)
            if results:
                verdict = dataclasses.replace(verdict, extra={**verdict.extra, "action_results": results})
        return verdict
