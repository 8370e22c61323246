"""The decision record: the one set of stored facts every report is rendered from.

A record joins an event (its verdict), the case opened for it, the reviewer decisions, whether a person
opened each file (the vault's reveal records), the appeals, the generation ledger and the audit records.
Each record keeps the ids it was built from (`sources`), so a figure in any report traces back to rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from amparo.audit import names
from amparo.errors import NotFound
from amparo.reports.categories import RESTRICTIVE_DECISIONS, automated_system, category_for, keyword_for
from amparo.store import reports_repo
from amparo.store.tables_events import EventRow
from amparo.store.tables_review import CaseRow

GENERATED_SURFACES = ("generation", "edit")


def utc(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


@dataclass
class FileFacts:
    ref: str
    item_id: str
    media_type: str
    size: int
    sha256: str
    sha1: str
    md5: str
    pdq: str | None
    captured_at: datetime
    viewed_by_person: bool  # a full reveal is in the audit trail (a blurred preview is not viewing)
    generated: bool
    generation_ids: list[str] = field(default_factory=list)


@dataclass
class DecisionRecord:
    decision_id: str  # "event-12" or "case-7": stable, and the input of the DSA puid
    event_id: int | None
    case_id: int | None
    account: str | None
    kind: str
    surface: str | None
    profile: str | None
    content_at: datetime
    applied_at: datetime
    decision: str  # the event's decision, or "confirm" for a manual case
    labels: list[str]
    automated_detection: bool
    automated_decision: str  # fully | partially | not
    system: str  # the automated means that flagged it
    reviewer_outcome: str | None  # confirm | not_violating | None (not reviewed)
    confirmed_label: str | None
    account_action: str | None
    generated: bool
    reviewers: list[str] = field(default_factory=list)
    files: list[FileFacts] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    appeals: list[dict[str, Any]] = field(default_factory=list)
    ledger: list[dict[str, Any]] = field(default_factory=list)
    verdict: dict[str, Any] = field(default_factory=dict)
    sources: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def effective_labels(self) -> list[str]:
        return [self.confirmed_label] if self.confirmed_label else list(self.labels)

    @property
    def category(self) -> str:
        return category_for(self.effective_labels).category

    @property
    def keyword(self) -> str:
        return keyword_for(self.effective_labels, generated=self.generated)

    @property
    def ground(self) -> str:
        return category_for(self.effective_labels).ground

    @property
    def territory(self) -> str | None:
        """eu-es → ES: the member state of the profile that decided."""
        if self.profile and self.profile.lower().startswith("eu-") and len(self.profile) == 5:
            return self.profile[3:].upper()
        return None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(category=self.category, keyword=self.keyword, ground=self.ground)
        return d


def _generated(labels: list[str], kind: str, surface: str | None) -> bool:
    return kind == "generated_image" or surface in GENERATED_SURFACES or "ai_generated" in labels


def _account_action(decisions: list[dict[str, Any]]) -> str | None:
    for d in decisions:
        for a in d.get("actions") or []:
            if isinstance(a, dict) and a.get("action") == "account_action":
                return str(a.get("what"))
    return None


def _human_outcome(case: CaseRow | None) -> str | None:
    if case is None or case.state != "decided":
        return None
    return case.outcome


def _from_event(ev: EventRow, case: CaseRow | None) -> DecisionRecord:
    outcome = _human_outcome(case)
    labels = list(ev.labels or [])
    return DecisionRecord(
        decision_id=f"event-{ev.id}",
        event_id=ev.id,
        case_id=case.id if case else None,
        account=ev.account,
        kind=ev.kind,
        surface=ev.surface,
        profile=ev.jurisdiction,
        content_at=utc(ev.created_at) or datetime.now(UTC),
        applied_at=utc(ev.created_at) or datetime.now(UTC),
        decision=ev.decision,
        labels=labels,
        automated_detection=bool(ev.automated),
        # The restriction was applied by the machine; a reviewer confirming it later makes it partly human.
        automated_decision="partially" if outcome == "confirm" else ("fully" if ev.automated else "not"),
        system=automated_system(ev.verdict or {}, ev.kind),
        reviewer_outcome=outcome,
        confirmed_label=case.outcome_label if case is not None and outcome == "confirm" else None,
        account_action=None,
        generated=_generated(labels, ev.kind, ev.surface),
        verdict=dict(ev.verdict or {}),
        sources={"events": [ev.id], "cases": [case.id] if case else []},
    )


def _from_manual_case(case: CaseRow) -> DecisionRecord:
    when = utc(case.decided_at) or utc(case.created_at) or datetime.now(UTC)
    labels = list(case.labels or [])
    return DecisionRecord(
        decision_id=f"case-{case.id}",
        event_id=None,
        case_id=case.id,
        account=case.account,
        kind="image",
        surface=None,
        profile=None,
        content_at=utc(case.created_at) or when,
        applied_at=when,
        decision="confirm",
        labels=labels,
        automated_detection=False,
        automated_decision="not",
        system="human_review",
        reviewer_outcome=case.outcome,
        confirmed_label=case.outcome_label,
        account_action=None,
        generated=_generated(labels, "image", None),
        sources={"events": [], "cases": [case.id]},
    )


def moderation_records(
    session: Session, *, start: datetime, end: datetime, profile_prefix: str | None = "eu"
) -> list[DecisionRecord]:
    """Every restriction decided in [start, end): one per restrictive event, plus manual cases a
    person confirmed. Statements of reasons and the transparency report both count exactly these."""
    events = [
        e
        for e in reports_repo.events_between(session, start=start, end=end)
        if e.decision in RESTRICTIVE_DECISIONS
        and (profile_prefix is None or (e.jurisdiction or "").lower().startswith(profile_prefix))
    ]
    cases = reports_repo.cases_for_events(session, event_ids=[e.id for e in events])
    out = [_from_event(e, cases.get(e.id)) for e in events]
    for c in reports_repo.cases_between(session, start=start, end=end):
        if c.source == "manual" and c.event_id is None and c.state == "decided" and c.outcome == "confirm":
            out.append(_from_manual_case(c))
    attach_account_actions(session, out)
    return out


def attach_account_actions(session: Session, records: list[DecisionRecord]) -> None:
    """The account restriction a reviewer's decision added (suspend, ban, restrict) to each record."""
    by_case: dict[int, list[DecisionRecord]] = {}
    for r in records:
        if r.case_id is not None and r.reviewer_outcome == "confirm":
            by_case.setdefault(r.case_id, []).append(r)
    for d in reports_repo.decisions_for_cases(session, case_ids=list(by_case)):
        action = _account_action([{"actions": d.actions}])
        if action:
            for r in by_case.get(d.case_id, []):
                r.account_action = action


def reviewed_events(session: Session, *, start: datetime, end: datetime) -> list[tuple[EventRow, CaseRow]]:
    """Events a person decided on in the period: the ground truth of the automated means' accuracy."""
    cases = [c for c in reports_repo.cases_between(session, start=start, end=end) if c.state == "decided"]
    out: list[tuple[EventRow, CaseRow]] = []
    for c in cases:
        if c.event_id is None or c.outcome not in ("confirm", "not_violating"):
            continue
        ev = reports_repo.get_event(session, event_id=c.event_id)
        if ev is not None:
            out.append((ev, c))
    return out


def case_record(session: Session, *, case_id: int) -> DecisionRecord:
    """The full record of one case: files with their hashes and reveals, decisions, appeals, ledger."""
    case = reports_repo.get_case(session, case_id=case_id)
    if case is None:
        raise NotFound(f"no case {case_id}")
    ev = reports_repo.get_event(session, event_id=case.event_id) if case.event_id else None
    rec = _from_event(ev, case) if ev is not None else _from_manual_case(case)
    users = reports_repo.user_names(session)
    items = reports_repo.case_items(session, case_id=case_id)
    refs = [i.evidence_ref for i in items if i.evidence_ref]
    evidence = reports_repo.evidence_items(session, refs=refs) or reports_repo.evidence_for_cases(
        session, case_ids=[case_id]
    )
    revealed = reports_repo.revealed_refs(session, refs=[e.ref for e in evidence], action=names.EVIDENCE_REVEAL)
    generations = reports_repo.generations_for_outputs(session, sha256s=[e.sha256 for e in evidence])
    gen_by_sha: dict[str, list[str]] = {}
    for g in generations:
        for o in g.outputs or []:
            if isinstance(o, dict) and o.get("sha256"):
                gen_by_sha.setdefault(str(o["sha256"]), []).append(g.generation_id)
    for e in evidence:
        gids = gen_by_sha.get(e.sha256, [])
        rec.files.append(
            FileFacts(
                ref=e.ref,
                item_id=e.item_id,
                media_type=e.media_type,
                size=e.size,
                sha256=e.sha256,
                sha1=e.sha1,
                md5=e.md5,
                pdq=e.pdq,
                captured_at=utc(e.created_at) or datetime.now(UTC),
                viewed_by_person=e.ref in revealed,
                generated=bool(gids) or rec.generated or _provenance_says_generated(items, e.item_id),
                generation_ids=sorted(set(gids)),
            )
        )
    rec.generated = rec.generated or any(f.generated for f in rec.files)
    for d in reports_repo.case_decisions(session, case_id=case_id):
        rec.decisions.append(
            {
                "id": d.id,
                "kind": d.kind,
                "label": d.label,
                "reviewer": users.get(d.reviewer_id or -1),
                "at": (utc(d.created_at) or datetime.now(UTC)).isoformat(),
                "actions": d.actions,
                "note": d.note,
            }
        )
    rec.reviewers = sorted({d["reviewer"] for d in rec.decisions if d["reviewer"]})
    rec.account_action = _account_action(rec.decisions)
    for a in reports_repo.appeals_for_case(session, case_id=case_id):
        rec.appeals.append(
            {
                "id": a.id,
                "state": a.state,
                "outcome": a.outcome,
                "filed_at": (utc(a.filed_at) or datetime.now(UTC)).isoformat(),
                "decided_at": utc(a.decided_at).isoformat() if a.decided_at else None,  # type: ignore[union-attr]
            }
        )
    rec.ledger = [
        {
            "generation_id": g.generation_id,
            "created_at": (utc(g.created_at) or datetime.now(UTC)).isoformat(),
            "account": g.account,
            "model": g.model,
            "decision": g.decision,
            "outputs": g.outputs,
        }
        for g in generations
    ]
    rec.sources.update(
        evidence=[f.ref for f in rec.files],
        decisions=[d["id"] for d in rec.decisions],
        appeals=[a["id"] for a in rec.appeals],
        generations=[g["generation_id"] for g in rec.ledger],
    )
    return rec


def _provenance_says_generated(items: list[Any], item_id: str) -> bool:
    for it in items:
        if it.item_id != item_id:
            continue
        for c in it.classifications or []:
            if isinstance(c, dict) and c.get("stage") == "provenance":
                scores = c.get("scores") or {}
                if float(scores.get("ai_generated", 0.0)) >= 0.5:
                    return True
    return False
