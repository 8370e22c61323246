"""Through the core pipeline: a hash match to a (benign stand-in) CSAM bank quarantines the
item and opens a top-priority case, in the same transaction as the event."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from amparo.domain import Context, Item
from amparo.signals.hashes.pdq import pdq_of_bytes
from amparo.store import banks_repo, evidence_repo, review_repo
from amparo.store.tables_audit import AuditRecordRow
from review.media import draw_landscape


def test_known_match_quarantines_and_opens_a_case(service: Any, shared_data: Any) -> None:
    # A benign photo standing in for known material (PDQ quality high enough to match).
    data = (shared_data / "pdq" / "reg-test" / "pen-and-coaster.png").read_bytes()
    with service.db.session() as s:
        bank = banks_repo.create_bank(s, name="standin-known", category="csam")
        banks_repo.add_entry(s, bank_id=bank.id, signal_type="pdq", value=pdq_of_bytes(data)[0])
    service.matcher.refresh()
    verdict = service.pipeline.check(
        Item.from_image(data, Context(account="acct-7", surface="upload"))
    )
    assert "csam_known" in verdict.labels
    with service.db.session() as s:
        cases = review_repo.list_queue(s, include_escalated=True)
        assert len(cases) == 1 and cases[0].priority == 100 and cases[0].account == "acct-7"
        assert cases[0].reasons and cases[0].event_id == verdict.event_id
        items = review_repo.list_case_items(s, case_id=cases[0].id)
        ev = evidence_repo.get_item(s, ref=items[0].evidence_ref)
        assert ev is not None and ev.event_id == verdict.event_id and ev.reported
        assert ev.case_id == cases[0].id
        _, back = service.vault.read(s, ref=ev.ref, actor="t", actor_role="admin", purpose="test")
        assert back == data
        actions = [r.action for r in s.scalars(select(AuditRecordRow))]
        assert "evidence.capture" in actions and "case.open" in actions
        assert service.audit.verify_chain(s).ok


def test_benign_item_opens_nothing(service: Any) -> None:
    service.pipeline.check(Item.from_image(draw_landscape(12)))
    with service.db.session() as s:
        assert review_repo.list_queue(s, include_escalated=True) == []
        assert evidence_repo.list_items(s) == []
