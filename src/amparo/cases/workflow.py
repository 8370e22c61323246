"""The review workflow: open, assign, decide (with the actions a decision triggers), appeal.

Every step writes its audit record in the same transaction as its rows. Decisions use
optimistic concurrency: the form carries the case version it was read at, the update only
applies if the version is unchanged, so of two concurrent decisions one wins and the other
gets Conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from amparo.audit import names
from amparo.audit.trail import AuditTrail
from amparo.cases import roles
from amparo.cases.priority import ESCALATION_BONUS, priority_for
from amparo.cases.roles import Actor
from amparo.domain.labels import HARM_LABELS
from amparo.errors import BadInput, ConfigurationError, Conflict, Forbidden, NotFound
from amparo.evidence.vault import Vault
from amparo.store import evidence_repo, review_repo
from amparo.store.tables_events import LegalReportRow
from amparo.store.tables_review import AppealRow, CaseDecisionRow, CaseItemRow, CaseRow

CONFIRM = "confirm"
NOT_VIOLATING = "not_violating"
ESCALATE = "escalate"
DECISION_KINDS = (CONFIRM, NOT_VIOLATING, ESCALATE)

REPORT = "report"
ACCOUNT_ACTION = "account_action"
BANK = "bank"
TRIGGERED_ACTIONS = (REPORT, ACCOUNT_ACTION, BANK)
ACCOUNT_ACTIONS = ("warn", "restrict", "suspend", "ban")

UPHELD = "upheld"
REVERSED = "reversed"
PARTIALLY_REVERSED = "partially_reversed"
APPEAL_OUTCOMES = (UPHELD, REVERSED, PARTIALLY_REVERSED)

LABELS = HARM_LABELS  # what a reviewer can confirm
# The bank categories a confirmed label's hashes may be added to.
BANK_CATEGORIES_FOR_LABEL: dict[str, tuple[str, ...]] = {
    "csam_known": ("csam",),
    "csam_suspected": ("csam",),
    "csam_request": ("csam",),
    "ncii_known": ("ncii",),
    "sexual_deepfake": ("ncii",),
    "nudify_request": ("ncii",),
}


class BankRefused(BadInput):
    """A decision named a bank the form does not offer (e.g. the negative SAFE bank)."""

    code = "bank_not_allowed"


@dataclass(frozen=True)
class CaseItemInput:
    item_id: str
    event_id: int | None = None
    evidence_ref: str | None = None
    kind: str = "image"
    signals: list[dict[str, Any]] = field(default_factory=list)
    matches: list[dict[str, Any]] = field(default_factory=list)
    classifications: list[dict[str, Any]] = field(default_factory=list)
    text_excerpt: str | None = None


@dataclass(frozen=True)
class DecisionInput:
    kind: str
    label: str | None = None
    note: str = ""
    actions: tuple[str, ...] = ()
    account_action: str | None = None
    bank_id: int | None = None


def _require(actor: Actor, permission: str, what: str) -> None:
    if not actor.can(permission):
        raise Forbidden(f"role {actor.role} may not {what}")


class CaseService:
    def __init__(self, *, audit: AuditTrail, vault: Vault | None) -> None:
        self.audit = audit
        self.vault = vault
        # Targets of a confirmed report (the jurisdiction profile's `report_to`; set by the Service).
        self.report_to: list[str] = []

    def _audit(self, session: Session, actor: Actor, **record: Any) -> None:
        """Every case action is recorded under the person (or Amparo) who took it."""
        self.audit.record(session, actor=actor.name, actor_role=actor.role, **record)

    # -- open and assign ---------------------------------------------------------------

    def open_case(
        self,
        session: Session,
        *,
        labels: list[str],
        reasons: list[dict[str, Any]],
        items: list[CaseItemInput],
        title: str | None = None,
        source: str = "policy",
        account: str | None = None,
        event_id: int | None = None,
        actor: Actor = roles.SYSTEM,
    ) -> CaseRow:
        if source == "manual":
            _require(actor, roles.VIEW_CASES, "open cases")
        now = datetime.now(UTC)
        row = review_repo.insert_case(
            session,
            row=CaseRow(
                created_at=now,
                updated_at=now,
                source=source,
                state="open",
                priority=priority_for(labels),
                title=(title or ", ".join(labels) or "review")[:300],
                labels=list(labels),
                reasons=list(reasons),
                account=account,
                event_id=event_id,
                version=1,
            ),
        )
        for it in items:
            review_repo.insert_case_item(
                session,
                row=CaseItemRow(
                    case_id=row.id,
                    item_id=it.item_id,
                    event_id=it.event_id,
                    evidence_ref=it.evidence_ref,
                    kind=it.kind,
                    signals=it.signals,
                    matches=it.matches,
                    classifications=it.classifications,
                    text_excerpt=(it.text_excerpt or None) and it.text_excerpt[:500],
                ),
            )
            if it.evidence_ref and self.vault is not None:
                self.vault.link_case(session, ref=it.evidence_ref, case_id=row.id)
        self._audit(
            session,
            actor,
            action=names.CASE_OPEN,
            subject_type="case",
            subject_id=row.id,
            details={
                "labels": list(labels),
                "priority": row.priority,
                "source": source,
                "event_id": event_id,
                "items": [i.item_id for i in items],
            },
        )
        return row

    def get(self, session: Session, *, case_id: int) -> CaseRow:
        row = review_repo.get_case(session, case_id=case_id)
        if row is None:
            raise NotFound(f"no case {case_id}")
        return row

    def assign(
        self,
        session: Session,
        *,
        case_id: int,
        expected_version: int,
        assignee: Actor,
        actor: Actor,
    ) -> CaseRow:
        _require(actor, roles.DECIDE, "take cases")
        case = self.get(session, case_id=case_id)
        if case.state not in review_repo.OPEN_STATES:
            raise Conflict(f"case {case_id} is {case.state}")
        if case.state == "escalated" and not assignee.can(roles.DECIDE_ESCALATED):
            raise Forbidden("escalated cases go to senior reviewers")
        if case.assignee_id not in (None, assignee.user_id) and not actor.can(
            roles.DECIDE_ESCALATED
        ):
            raise Conflict(f"case {case_id} is assigned to someone else")
        state = "escalated" if case.state == "escalated" else "assigned"
        ok = review_repo.update_case_if_version(
            session,
            case_id=case_id,
            expected_version=expected_version,
            values={
                "assignee_id": assignee.user_id,
                "state": state,
                "updated_at": datetime.now(UTC),
            },
        )
        if not ok:
            raise Conflict(f"case {case_id} changed since you loaded it; reload and try again")
        self._audit(
            session,
            actor,
            action=names.CASE_ASSIGN,
            subject_type="case",
            subject_id=case_id,
            details={"assignee": assignee.name},
        )
        session.refresh(case)
        return case

    # -- decide ------------------------------------------------------------------------

    def decide(
        self,
        session: Session,
        *,
        case_id: int,
        expected_version: int,
        decision: DecisionInput,
        actor: Actor,
    ) -> CaseDecisionRow:
        _require(actor, roles.DECIDE, "decide cases")
        d = self._validate(decision, actor)
        case = self.get(session, case_id=case_id)
        if case.state not in review_repo.OPEN_STATES:
            raise Conflict(f"case {case_id} was already decided ({case.outcome})")
        if case.state == "escalated":
            _require(actor, roles.DECIDE_ESCALATED, "decide escalated cases")
        if case.assignee_id is not None and case.assignee_id != actor.user_id:
            # a senior takes the case first (assign, audited) rather than deciding over a colleague
            raise Forbidden(f"case {case_id} is assigned to someone else", code="not_assignee")
        if BANK in d.actions:
            assert d.bank_id is not None
            self._check_bankable(session, bank_id=d.bank_id, label=d.label)
        now = datetime.now(UTC)
        if d.kind == ESCALATE:
            values: dict[str, Any] = {
                "state": "escalated",
                "priority": case.priority + ESCALATION_BONUS,
                "assignee_id": None,
                "updated_at": now,
            }
        else:
            values = {
                "state": "decided",
                "outcome": d.kind,
                "outcome_label": d.label,
                "decided_at": now,
                "updated_at": now,
            }
            if REPORT in d.actions:
                values["report_state"] = "queued"
        if not review_repo.update_case_if_version(
            session, case_id=case_id, expected_version=expected_version, values=values
        ):
            raise Conflict(
                f"case {case_id} was decided or changed by someone else since you loaded it"
            )
        done = self._run_actions(session, case=case, decision=d, actor=actor)
        row = review_repo.insert_decision(
            session,
            row=CaseDecisionRow(
                case_id=case_id,
                reviewer_id=actor.user_id,
                kind=d.kind,
                label=d.label,
                note=d.note[:5000],
                actions=done,
                created_at=now,
            ),
        )
        self._audit(
            session,
            actor,
            action=names.CASE_DECIDE,
            subject_type="case",
            subject_id=case_id,
            details={
                "kind": d.kind,
                "label": d.label,
                "actions": done,
                "version": expected_version,
            },
        )
        session.refresh(case)
        return row

    @staticmethod
    def _validate(d: DecisionInput, actor: Actor) -> DecisionInput:
        if d.kind not in DECISION_KINDS:
            raise BadInput(f"unknown decision {d.kind!r}", code="bad_decision")
        actions = tuple(dict.fromkeys(d.actions))
        for a in actions:
            if a not in TRIGGERED_ACTIONS:
                raise BadInput(f"unknown action {a!r}", code="bad_action")
        if d.kind == CONFIRM:
            if d.label not in LABELS:
                raise BadInput("confirming needs one of the known labels", code="label_required")
        elif actions:
            raise BadInput("only a confirmed violation triggers actions", code="bad_action")
        if ACCOUNT_ACTION in actions and d.account_action not in ACCOUNT_ACTIONS:
            raise BadInput(f"account action must be one of {ACCOUNT_ACTIONS}", code="bad_action")
        if BANK in actions:
            _require(actor, roles.BANK_HASHES, "add hashes to a bank")
            if d.bank_id is None:
                raise BadInput("choose a bank to add the hashes to", code="bank_required")
        label = d.label if d.kind == CONFIRM else None
        return DecisionInput(d.kind, label, d.note, actions, d.account_action, d.bank_id)

    def _run_actions(
        self, session: Session, *, case: CaseRow, decision: DecisionInput, actor: Actor
    ) -> list[dict[str, Any]]:
        done: list[dict[str, Any]] = []
        items = review_repo.list_case_items(session, case_id=case.id)
        if REPORT in decision.actions:
            refs = [i.evidence_ref for i in items if i.evidence_ref]
            if self.vault is not None:
                for ref in refs:
                    if evidence_repo.get_item(session, ref=ref) is not None:
                        self.vault.mark_reported(
                            session, ref=ref, actor=actor.name, actor_role=actor.role
                        )
            self._audit(
                session,
                actor,
                action=names.CASE_REPORT_QUEUED,
                subject_type="case",
                subject_id=case.id,
                details={"label": decision.label, "evidence": refs},
            )
            report_ids = []
            for target in self.report_to or ["ncmec"]:
                report = LegalReportRow(
                    event_id=next((i.event_id for i in items if i.event_id), None),
                    target=target,
                    status="queued",
                    labels=[decision.label] if decision.label else [],
                    payload={
                        "case_id": case.id,
                        "account": case.account,
                        "evidence": refs,
                        "reviewed_by": actor.name,
                        "source": "review_decision",
                    },
                )
                session.add(report)
                session.flush()
                report_ids.append(report.id)
            done.append({"action": REPORT, "state": "queued", "evidence": refs, "report_ids": report_ids})
        if ACCOUNT_ACTION in decision.actions:
            self._audit(
                session,
                actor,
                action=names.CASE_ACCOUNT_ACTION,
                subject_type="account",
                subject_id=case.account or "unknown",
                details={
                    "case_id": case.id,
                    "action": decision.account_action,
                    "label": decision.label,
                },
            )
            done.append(
                {"action": ACCOUNT_ACTION, "account": case.account, "what": decision.account_action}
            )
        if BANK in decision.actions:
            assert decision.bank_id is not None
            added = self._bank(
                session,
                case=case,
                items=items,
                bank_id=decision.bank_id,
                actor=actor,
                label=decision.label,
            )
            done.append({"action": BANK, "bank_id": decision.bank_id, "entries": added})
        return done

    @staticmethod
    def _check_bankable(session: Session, *, bank_id: int, label: str | None) -> None:
        """Only a bank the decision form offers (enabled, not a negative/"safe" bank) whose category
        fits the confirmed label: a hash added to a safe bank would whitelist known material."""
        bank = next((b for b in review_repo.list_bankable_banks(session) if b.id == bank_id), None)
        if bank is None:
            raise BankRefused(f"bank {bank_id} is not one a confirmed item can be added to")
        allowed = BANK_CATEGORIES_FOR_LABEL.get(label or "", ("other",))
        if bank.category not in allowed:
            raise BankRefused(
                f"a confirmed {label} goes to a bank of category {' or '.join(allowed)}, not {bank.category}"
            )

    def _bank(
        self,
        session: Session,
        *,
        case: CaseRow,
        items: list[CaseItemRow],
        bank_id: int,
        actor: Actor,
        label: str | None,
    ) -> list[dict[str, Any]]:
        try:
            from amparo.store import banks_repo  # the core's bank repository
        except ImportError as e:  # pragma: no cover - core not installed
            raise ConfigurationError("bank repository unavailable") from e
        hashes: dict[tuple[str, str], None] = {}
        for it in items:
            for s in it.signals or []:
                if s.get("exact") is False:  # a fast-lookup PDQ is not a hash of record: never banked
                    continue
                if s.get("type") in ("pdq", "md5", "sha256") and s.get("value"):
                    hashes[(s["type"], s["value"])] = None
            if it.evidence_ref:
                ev = evidence_repo.get_item(session, ref=it.evidence_ref)
                if ev is not None:
                    hashes[("sha256", ev.sha256)] = None
                    hashes[("md5", ev.md5)] = None
                    if ev.pdq:
                        hashes[("pdq", ev.pdq)] = None
        if not hashes:
            raise BadInput(f"case {case.id} has no hashes to add to a bank", code="nothing_to_bank")
        added: list[dict[str, Any]] = []
        for signal_type, value in hashes:
            entry = banks_repo.add_entry(
                session,
                bank_id=bank_id,
                signal_type=signal_type,
                value=value,
                opinion="positive",
                note=f"case {case.id} confirmed {label} by {actor.name}",
                metadata={"case_id": case.id, "label": label, "decided_by": actor.name},
            )
            entry_id = getattr(entry, "id", entry)
            added.append({"signal_type": signal_type, "value": value, "entry_id": entry_id})
        self._audit(
            session,
            actor,
            action=names.CASE_BANKED,
            subject_type="case",
            subject_id=case.id,
            details={"bank_id": bank_id, "entries": added},
        )
        return added

    # -- appeals -----------------------------------------------------------------------

    def file_appeal(
        self, session: Session, *, case_id: int, statement: str, account: str | None, actor: Actor
    ) -> AppealRow:
        """Record an appeal by the affected user (filed through the API, or by staff on
        their behalf)."""
        case = self.get(session, case_id=case_id)
        if case.state != "decided":
            raise Conflict(f"case {case_id} has no decision to appeal yet")
        if review_repo.open_appeal_for_case(session, case_id=case_id) is not None:
            raise Conflict(f"case {case_id} already has an open appeal")
        row = review_repo.insert_appeal(
            session,
            row=AppealRow(
                case_id=case_id,
                account=account or case.account,
                statement=statement[:5000],
                state="open",
                filed_at=datetime.now(UTC),
                version=1,
            ),
        )
        self._audit(
            session,
            actor,
            action=names.APPEAL_FILE,
            subject_type="appeal",
            subject_id=row.id,
            details={"case_id": case_id},
        )
        return row

    def decide_appeal(
        self,
        session: Session,
        *,
        appeal_id: int,
        expected_version: int,
        outcome: str,
        note: str,
        actor: Actor,
    ) -> AppealRow:
        _require(actor, roles.DECIDE_APPEAL, "decide appeals")
        if outcome not in APPEAL_OUTCOMES:
            raise BadInput(f"appeal outcome must be one of {APPEAL_OUTCOMES}", code="bad_outcome")
        appeal = review_repo.get_appeal(session, appeal_id=appeal_id)
        if appeal is None:
            raise NotFound(f"no appeal {appeal_id}")
        if appeal.state != "open":
            raise Conflict(f"appeal {appeal_id} was already decided ({appeal.outcome})")
        if actor.user_id is not None and actor.user_id in review_repo.decider_ids(
            session, case_id=appeal.case_id
        ):
            raise Forbidden("an appeal is decided by a reviewer who did not decide the case")
        now = datetime.now(UTC)
        if not review_repo.update_appeal_if_version(
            session,
            appeal_id=appeal_id,
            expected_version=expected_version,
            values={
                "state": "decided",
                "outcome": outcome,
                "note": note[:5000],
                "decided_at": now,
                "reviewer_id": actor.user_id,
            },
        ):
            raise Conflict(f"appeal {appeal_id} was decided or changed by someone else")
        review_repo.insert_decision(
            session,
            row=CaseDecisionRow(
                case_id=appeal.case_id,
                reviewer_id=actor.user_id,
                kind=f"appeal_{outcome}",
                label=None,
                note=note[:5000],
                actions=[{"appeal_id": appeal_id}],
                created_at=now,
            ),
        )
        filed = evidence_repo.as_utc(appeal.filed_at)
        self._audit(
            session,
            actor,
            action=names.APPEAL_DECIDE,
            subject_type="appeal",
            subject_id=appeal_id,
            details={
                "case_id": appeal.case_id,
                "outcome": outcome,
                "hours_to_decision": round((now - filed).total_seconds() / 3600, 3),
            },
        )
        session.refresh(appeal)
        return appeal
