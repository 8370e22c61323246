"""Cases: priority, the queue, decisions and their actions, concurrency, appeals, statistics."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import select

from amparo.cases.priority import priority_for
from amparo.cases.stats import review_stats
from amparo.cases.workflow import CaseItemInput, DecisionInput
from amparo.errors import BadInput, Conflict, Forbidden
from amparo.store import banks_repo, evidence_repo, review_repo
from amparo.store.tables_audit import AuditRecordRow
from review.media import draw_landscape


def open_case(
    db: Any, review: Any, labels: list[str], *, seed: int = 1, account: str = "acct-1"
) -> tuple[int, int]:
    with db.session() as s:
        ev = review.vault.capture(
            s, data=draw_landscape(seed), item_id=f"item-{seed}", event_id=seed
        )
        c = review.cases.open_case(
            s,
            labels=labels,
            account=account,
            event_id=seed,
            reasons=[
                {
                    "rule": "test-rule",
                    "label": labels[0],
                    "decision": "block",
                    "description": "benign stand-in",
                    "evidence": {"score": 0.99},
                }
            ],
            items=[
                CaseItemInput(
                    item_id=f"item-{seed}",
                    event_id=seed,
                    evidence_ref=ev.ref,
                    signals=[{"type": "pdq", "value": ev.pdq, "quality": 100}],
                )
            ],
        )
        return c.id, c.version


def test_priority_order_of_labels() -> None:
    order = [
        priority_for([x])
        for x in ("csam_known", "csam_suspected", "sexual_deepfake", "ai_generated")
    ]
    assert order == sorted(order, reverse=True) and len(set(order)) == 4
    assert priority_for(["ncii_known"]) == priority_for(["sexual_deepfake"])
    assert priority_for(["ai_generated", "csam_known"]) == priority_for(["csam_known"])


def test_queue_is_ordered_by_priority_then_age(db: Any, review: Any) -> None:
    a, _ = open_case(db, review, ["ai_generated"], seed=1)
    b, _ = open_case(db, review, ["ncii_known"], seed=2)
    c, _ = open_case(db, review, ["csam_suspected"], seed=3)
    d, _ = open_case(db, review, ["csam_known"], seed=4)
    e, _ = open_case(db, review, ["csam_suspected"], seed=5)
    with db.session() as s:
        assert [x.id for x in review_repo.list_queue(s, include_escalated=True)] == [d, c, e, b, a]
        ev = evidence_repo.list_items(s, case_id=c)
        assert len(ev) == 1  # the evidence is linked to its case


def test_confirm_with_report_account_action_and_bank(db: Any, review: Any, people: Any) -> None:
    cid, v = open_case(db, review, ["csam_suspected"])
    with db.session() as s:
        bank = banks_repo.create_bank(s, name="confirmed-test", category="csam")
        bank_id = bank.id
    with db.session() as s:
        review.cases.decide(
            s,
            case_id=cid,
            expected_version=v,
            actor=people["senior_reviewer"],
            decision=DecisionInput(
                "confirm",
                "csam_suspected",
                "benign stand-in",
                ("report", "account_action", "bank"),
                "suspend",
                bank_id,
            ),
        )
    with db.session() as s:
        case = review_repo.get_case(s, case_id=cid)
        assert (case.state, case.outcome, case.outcome_label, case.report_state) == (
            "decided",
            "confirm",
            "csam_suspected",
            "queued",
        )
        ev = evidence_repo.list_items(s, case_id=cid)[0]
        assert ev.reported
        entries = banks_repo.list_entries(s, bank_id=bank_id)
        assert {(e.signal_type, e.value) for e in entries} >= {
            ("pdq", ev.pdq),
            ("sha256", ev.sha256),
        }
        actions = [r.action for r in s.scalars(select(AuditRecordRow))]
        for a in (
            "case.decide",
            "case.report_queued",
            "case.account_action",
            "case.banked",
            "evidence.retention",
        ):
            assert a in actions


def test_bad_decisions_are_refused(db: Any, review: Any, people: Any) -> None:
    cid, v = open_case(db, review, ["ai_generated"])
    rita = people["reviewer"]
    with db.session() as s:
        with pytest.raises(BadInput):
            review.cases.decide(
                s,
                case_id=cid,
                expected_version=v,
                actor=rita,
                decision=DecisionInput("confirm", None),
            )
        with pytest.raises(BadInput):
            review.cases.decide(
                s,
                case_id=cid,
                expected_version=v,
                actor=rita,
                decision=DecisionInput("not_violating", actions=("report",)),
            )
        with pytest.raises(Forbidden):  # only senior reviewers add to banks
            review.cases.decide(
                s,
                case_id=cid,
                expected_version=v,
                actor=rita,
                decision=DecisionInput("confirm", "ai_generated", actions=("bank",), bank_id=1),
            )
        with pytest.raises(Forbidden):
            review.cases.decide(
                s,
                case_id=cid,
                expected_version=v,
                actor=people["auditor"],
                decision=DecisionInput("not_violating"),
            )


def test_stale_version_conflicts(db: Any, review: Any, people: Any) -> None:
    cid, v = open_case(db, review, ["ai_generated"])
    with db.session() as s:
        review.cases.assign(
            s,
            case_id=cid,
            expected_version=v,
            assignee=people["reviewer"],
            actor=people["reviewer"],
        )
    with db.session() as s, pytest.raises(Conflict, match="changed"):
        review.cases.decide(
            s,
            case_id=cid,
            expected_version=v,
            actor=people["reviewer"],
            decision=DecisionInput("not_violating"),
        )


def test_concurrent_decisions_one_wins(db: Any, review: Any, people: Any) -> None:
    cid, v = open_case(db, review, ["csam_suspected"])
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def decide(who: str, kind: str, label: str | None) -> None:
        barrier.wait()
        try:
            with db.session() as s:
                review.cases.decide(
                    s,
                    case_id=cid,
                    expected_version=v,
                    actor=people[who],
                    decision=DecisionInput(kind, label),
                )
            outcomes[who] = "won"
        except Conflict:
            outcomes[who] = "conflict"

    ts = [
        threading.Thread(target=decide, args=("reviewer", "confirm", "csam_suspected")),
        threading.Thread(target=decide, args=("reviewer2", "not_violating", None)),
    ]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    assert sorted(outcomes.values()) == ["conflict", "won"]
    with db.session() as s:
        assert len(review_repo.list_decisions(s, case_id=cid)) == 1
        assert review.audit.verify_chain(s).ok


def test_escalation_goes_to_senior_reviewers(db: Any, review: Any, people: Any) -> None:
    cid, v = open_case(db, review, ["sexual_deepfake"])
    with db.session() as s:
        review.cases.decide(
            s,
            case_id=cid,
            expected_version=v,
            actor=people["reviewer"],
            decision=DecisionInput("escalate", note="unsure"),
        )
    with db.session() as s:
        case = review_repo.get_case(s, case_id=cid)
        assert case.state == "escalated" and case.priority > priority_for(["sexual_deepfake"])
        assert cid not in [c.id for c in review_repo.list_queue(s, include_escalated=False)]
        with pytest.raises(Forbidden):
            review.cases.decide(
                s,
                case_id=cid,
                expected_version=case.version,
                actor=people["reviewer2"],
                decision=DecisionInput("not_violating"),
            )
    with db.session() as s:
        review.cases.decide(
            s,
            case_id=cid,
            expected_version=case.version,
            actor=people["senior_reviewer"],
            decision=DecisionInput("confirm", "sexual_deepfake"),
        )


def test_appeals_are_decided_by_another_reviewer(db: Any, review: Any, people: Any) -> None:
    cid, v = open_case(db, review, ["ncii_known"])
    with db.session() as s, pytest.raises(Conflict):  # nothing to appeal yet
        review.cases.file_appeal(
            s, case_id=cid, statement="this is my own photo", account=None, actor=people["reviewer"]
        )
    with db.session() as s:
        review.cases.decide(
            s,
            case_id=cid,
            expected_version=v,
            actor=people["senior_reviewer"],
            decision=DecisionInput("confirm", "ncii_known"),
        )
    with db.session() as s:
        appeal = review.cases.file_appeal(
            s, case_id=cid, statement="this is my own photo", account=None, actor=people["reviewer"]
        )
        aid, av = appeal.id, appeal.version
    with db.session() as s, pytest.raises(Forbidden, match="did not decide"):
        review.cases.decide_appeal(
            s,
            appeal_id=aid,
            expected_version=av,
            outcome="reversed",
            note="",
            actor=people["senior_reviewer"],
        )
    with db.session() as s, pytest.raises(Forbidden):  # plain reviewers do not decide appeals
        review.cases.decide_appeal(
            s,
            appeal_id=aid,
            expected_version=av,
            outcome="reversed",
            note="",
            actor=people["reviewer2"],
        )
    with db.session() as s:
        done = review.cases.decide_appeal(
            s,
            appeal_id=aid,
            expected_version=av,
            outcome="partially_reversed",
            note="label kept, account restored",
            actor=people["senior2"],
        )
        assert done.outcome == "partially_reversed" and done.decided_at is not None
    with db.session() as s, pytest.raises(Conflict):
        review.cases.decide_appeal(
            s, appeal_id=aid, expected_version=av, outcome="upheld", note="", actor=people["admin"]
        )
    with db.session() as s:
        st = review_stats(s)
        assert st.appeals_by_outcome == {"partially_reversed": 1}
        assert st.median_hours_to_appeal_decision is not None
        assert st.decisions_by_label == {"ncii_known": 1}
        assert st.decided == 1 and st.queue_size == 0
