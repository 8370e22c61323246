"""Finding 11: every repeated `amparo check` of the same file stored another identical evidence copy and
opened another case. Now the same bytes reuse the kept item, and the open case of the same account."""

from __future__ import annotations

from typing import Any

from amparo.domain import Context, Item
from amparo.signals.hashes.pdq import pdq_of_bytes
from amparo.store import banks_repo, review_repo
from amparo.store.tables_review import CaseRow, EvidenceItemRow


def test_repeated_checks_reuse_the_evidence_and_the_open_case(service: Any, shared_data: Any) -> None:
    data = (shared_data / "pdq" / "reg-test" / "pen-and-coaster.png").read_bytes()  # benign stand-in
    with service.db.session() as s:
        bank = banks_repo.create_bank(s, name="standin-known", category="csam")
        banks_repo.add_entry(s, bank_id=bank.id, signal_type="pdq", value=pdq_of_bytes(data)[0])
    service.matcher.refresh()
    events = [
        service.pipeline.check(Item.from_image(data, Context(account="acct-7", surface="upload"))).event_id
        for _ in range(3)
    ]
    with service.db.session() as s:
        assert s.query(EvidenceItemRow).count() == 1
        cases = s.query(CaseRow).all()
        assert len(cases) == 1
        assert [i.event_id for i in review_repo.list_case_items(s, case_id=cases[0].id)] == events
        for ev in events:  # an appeal filed against any of the events finds the case
            found = review_repo.find_case_by_event(s, event_id=ev)
            assert found is not None and found.id == cases[0].id
    # another account uploading the same bytes: the same kept copy, its own case
    service.pipeline.check(Item.from_image(data, Context(account="acct-8", surface="upload")))
    with service.db.session() as s:
        assert s.query(EvidenceItemRow).count() == 1
        assert sorted(c.account for c in s.query(CaseRow)) == ["acct-7", "acct-8"]
        assert service.audit.verify_chain(s).ok


def test_repeated_checks_without_an_account_share_one_case(service: Any, shared_data: Any) -> None:
    # `amparo check FILE` (no --account) twice: the CLI calls the same pipeline with account=None
    data = (shared_data / "pdq" / "reg-test" / "pen-and-coaster.png").read_bytes()
    with service.db.session() as s:
        bank = banks_repo.create_bank(s, name="standin-known", category="csam")
        banks_repo.add_entry(s, bank_id=bank.id, signal_type="pdq", value=pdq_of_bytes(data)[0])
    service.matcher.refresh()
    for _ in range(2):
        service.pipeline.check(Item.from_image(data, Context(surface="cli", source="x.png")))
    with service.db.session() as s:
        assert s.query(EvidenceItemRow).count() == 1 and s.query(CaseRow).count() == 1


def test_a_new_sighting_keeps_the_evidence_at_least_as_long_as_a_fresh_capture(service: Any, shared_data: Any) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from amparo.store import evidence_repo
    from amparo.store.tables_audit import AuditRecordRow

    data = (shared_data / "pdq" / "reg-test" / "pen-and-coaster.png").read_bytes()
    with service.db.session() as s:
        bank = banks_repo.create_bank(s, name="standin-known", category="csam")
        banks_repo.add_entry(s, bank_id=bank.id, signal_type="pdq", value=pdq_of_bytes(data)[0])
    service.matcher.refresh()
    service.pipeline.check(Item.from_image(data, Context(account="a")))
    soon = datetime.now(UTC) + timedelta(days=1)
    with service.db.session() as s:  # as if captured long ago: its retention nearly over
        s.execute(update(EvidenceItemRow).values(retain_until=soon))
    service.pipeline.check(Item.from_image(data, Context(account="a")))
    with service.db.session() as s:
        row = s.query(EvidenceItemRow).one()
        assert evidence_repo.as_utc(row.retain_until) > soon + timedelta(days=1)
        seen = [r for r in s.query(AuditRecordRow) if r.action == "evidence.retention" and r.details.get("seen_again")]
        assert len(seen) == 1 and service.audit.verify_chain(s).ok
