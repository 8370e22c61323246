"""`amparo verify`: every tamper case of issue 14 finding 6 is found and the broken row named."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from amparo.cli.verify import run_verify
from amparo.domain.items import Item
from amparo.provenance.watermark_samples import draw_benign_image
from amparo.store import banks_repo
from amparo.store.tables_events import GenerationRow
from amparo.store.tables_review import CaseRow


def _png(seed: int) -> bytes:
    import io

    buf = io.BytesIO()
    draw_benign_image(seed, 96).save(buf, "PNG")
    return buf.getvalue()


def _sql(svc: Any, stmt: str, **params: Any) -> None:
    """An attacker with write access to the database (not to the keys directory)."""
    with svc.db.engine.begin() as c:
        c.execute(text(stmt), params)


@pytest.fixture
def populated(service: Any) -> Any:
    svc = service
    with svc.db.session() as s:
        for i in (1, 2):
            s.add(
                GenerationRow(
                    generation_id=f"gen-{i}",
                    account=f"acct-{i}",
                    operation="generation",
                    request_sha256="0" * 64,
                    decision="block" if i == 1 else "allow",
                    reasons=[],
                    input_hashes={},
                    outputs=[],
                )
            )
        bank = banks_repo.create_bank(s, name="known", category="csam")
        banks_repo.add_entry(s, bank_id=bank.id, signal_type="md5", value="a" * 32)
        banks_repo.add_entry(s, bank_id=bank.id, signal_type="md5", value="b" * 32)
        s.add(CaseRow(source="policy", state="decided", priority=5, title="t", outcome="confirmed"))
        for seed in (1, 2):
            svc.vault.capture(s, data=_png(seed), item_id=f"item-{seed}", event_id=seed)
    svc.pipeline.check(Item.from_image(_png(3)))
    with svc.db.session() as s:
        svc.audit.checkpoint(s)
    report = run_verify(svc)
    assert report["ok"], report["problems"] or report["first_broken"]
    return svc


def _broken(svc: Any) -> dict[str, Any]:
    report = run_verify(svc)
    assert not report["ok"]
    return report


def test_clean_install_verifies_every_table(populated: Any) -> None:
    tables = {t["table"]: t["rows"] for t in run_verify(populated)["tables"]}
    assert tables["generations"] == 2 and tables["bank_entries"] == 2 and tables["events"] == 1
    assert tables["evidence_items"] == 2 and tables["cases"] == 1 and tables["audit_checkpoints"] == 1


@pytest.mark.parametrize(
    ("stmt", "named"),
    [
        ("UPDATE generations SET account = 'someone-else' WHERE generation_id = 'gen-1'", "generations row"),
        ("UPDATE generations SET decision = 'allow' WHERE generation_id = 'gen-1'", "generations row"),
        ("UPDATE events SET decision = 'block'", "events row 1 was altered"),
        ("UPDATE bank_entries SET value = 'c' || substr(value, 2) WHERE id = 2", "bank_entries row 2 was altered"),
        ("UPDATE bank_entries SET opinion = 'negative' WHERE id = 1", "bank_entries row 1 was altered"),
        ("UPDATE banks SET negative = TRUE", "banks row 1 was altered"),
        ("UPDATE cases SET outcome = 'not_violating'", "cases row 1 was altered"),
        ("UPDATE evidence_items SET retain_until = :past WHERE id = 1", "evidence_items row 1 was altered"),
        ("UPDATE evidence_items SET reported = TRUE WHERE id = 2", "evidence_items row 2 was altered"),
    ],
)
def test_edited_rows_are_named(populated: Any, stmt: str, named: str) -> None:
    _sql(populated, stmt, past=datetime(2020, 1, 1))
    report = _broken(populated)
    assert named in report["first_broken"], report["first_broken"]


def test_mac_copied_from_another_row_fails(populated: Any) -> None:
    _sql(populated, "UPDATE bank_entries SET row_mac = (SELECT row_mac FROM bank_entries WHERE id = 1) WHERE id = 2")
    assert "bank_entries row 2" in _broken(populated)["first_broken"]


def test_deleted_evidence_row_is_found(populated: Any) -> None:
    _sql(populated, "DELETE FROM evidence_items WHERE id = 1")
    report = _broken(populated)
    assert "evidence_items: 1 row(s) deleted outside Amparo" in report["first_broken"]
    assert "first id missing from the sequence is 1" in report["first_broken"]


def test_deleted_ledger_row_and_tombstone_are_found(populated: Any) -> None:
    svc = populated
    with svc.db.session() as s:
        ref = s.execute(text("SELECT ref FROM evidence_items WHERE id = 2")).scalar_one()
        svc.vault.delete(s, ref=ref, actor="cli:test", actor_role="admin", reason="court order 12")
    assert run_verify(svc)["ok"]  # a deletion through Amparo balances the head and leaves a tombstone
    _sql(svc, "DELETE FROM evidence_tombstones")
    assert "evidence_tombstones: 1 row(s) deleted" in _broken(svc)["first_broken"]


def test_row_inserted_outside_amparo_is_not_sealed(populated: Any) -> None:
    _sql(
        populated,
        "INSERT INTO bank_entries (bank_id, signal_type, value, opinion, enabled, entry_metadata, created_at)"
        " VALUES (1, 'md5', :v, 'positive', TRUE, '{}', :now)",
        v="d" * 32,
        now=datetime(2026, 1, 1),
    )
    assert "is not sealed" in _broken(populated)["first_broken"]


def test_deleted_checkpoint_is_found(populated: Any) -> None:
    _sql(populated, "DELETE FROM audit_checkpoints")
    report = _broken(populated)
    assert "checkpoint taken at record" in report["first_broken"] and "deleted" in report["first_broken"]


def test_forged_head_is_found(populated: Any) -> None:
    _sql(populated, "UPDATE integrity_heads SET row_count = row_count - 1 WHERE table_name = 'events'")
    assert "events: the table head was altered" in _broken(populated)["first_broken"]


def test_deleted_head_and_rows_are_found(populated: Any) -> None:
    """Emptying a table and deleting its head does not pass for a fresh install."""
    _sql(populated, "DELETE FROM legal_reports")
    _sql(populated, "DELETE FROM integrity_heads WHERE table_name = 'legal_reports'")
    assert "legal_reports: the table head is missing" in _broken(populated)["first_broken"]


def test_changes_through_amparo_stay_sealed(populated: Any) -> None:
    svc = populated
    with svc.db.session() as s:
        banks_repo.remove_entries(s, entry_ids=[1])
        banks_repo.update_bank(s, name="known", enabled=False)
        banks_repo.disable_bank_entries(s, bank_id=1)  # a bulk UPDATE statement
        ref = s.execute(text("SELECT ref FROM evidence_items WHERE id = 1")).scalar_one()
        svc.vault.mark_reported(s, ref=ref, actor="cli:test", actor_role="admin")
        svc.vault.place_hold(
            s,
            ref=ref,
            reason="preservation request",
            authority=None,
            actor="cli:test",
            actor_role="admin",
            ends_at=datetime.now(UTC) + timedelta(days=30),
        )
    report = run_verify(svc)
    assert report["ok"], report["first_broken"]


def test_cli_verify_exit_codes(populated: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from amparo.cli.main import app

    svc = populated
    s = svc.settings
    for k, v in {
        "AMPARO_DATA_DIR": str(s.data_dir),
        "AMPARO_DATABASE_URL": s.resolved_database_url,
        "AMPARO_MASTER_KEY": "11" * 32,
        "AMPARO_DETECTORS": "none",
        "AMPARO_ENVIRONMENT": "test",
    }.items():
        monkeypatch.setenv(k, v)
    runner = CliRunner()
    ok = runner.invoke(app, ["verify", "--json"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["ok"] is True
    _sql(svc, "UPDATE generations SET account = 'framed' WHERE generation_id = 'gen-2'")
    bad = runner.invoke(app, ["verify"])
    assert bad.exit_code == 1 and "BROKEN: generations row 2 was altered" in bad.output


def test_repair_pdq_rehashes_legacy_evidence_from_the_kept_bytes(populated: Any, shared_data: Any) -> None:
    """Evidence hashed by the pre-0005 fast decode gets the reference hash of its kept bytes."""
    from amparo.signals.hashes.pdq import pdq_of_bytes, pdq_of_bytes_fast
    from amparo.store.tables_review import EvidenceItemRow

    svc = populated
    data = (shared_data / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    with svc.db.session() as s:
        row = svc.vault.capture(s, data=data, item_id="legacy", event_id=9)
        row.pdq, row.pdq_origin = pdq_of_bytes_fast(data)[0], "legacy_fast"  # as stored before 0005
        ref = row.ref
    with svc.db.session() as s:
        out = svc.vault.rehash_legacy_pdq(s, actor="cli:admin")
    assert out == {"rehashed": 1, "changed": 1, "unreadable": 0}
    with svc.db.session() as s:
        row = s.query(EvidenceItemRow).filter_by(ref=ref).one()
        assert (row.pdq, row.pdq_origin) == (pdq_of_bytes(data)[0], "reference")
    assert run_verify(svc)["ok"]


def test_upgrade_from_0003_marks_legacy_pdq_and_seals_existing_rows(tmp_path: Any, database_url: str) -> None:
    """Rows written before 0005 are marked (PDQ origin) and reported unsealed until an admin seals them."""
    from alembic import command
    from conftest import make_settings

    from amparo.service import Service
    from amparo.store import integrity_repo
    from amparo.store.database import Database, alembic_config

    db = Database(database_url)
    cfg = alembic_config(db.engine.url.render_as_string(hide_password=False))
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003_generation")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO banks (name, category, source, description, enabled, negative, pdq_threshold,"
                " created_at, updated_at) VALUES ('old', 'csam', 'local', '', TRUE, FALSE, 31, :t, :t)"
            ),
            {"t": datetime(2026, 1, 1)},
        )
        conn.execute(
            text(
                "INSERT INTO bank_entries (bank_id, signal_type, value, opinion, enabled, entry_metadata,"
                " created_at) VALUES (1, 'pdq', :v, 'positive', TRUE, '{}', :t)"
            ),
            {"v": "f" * 64, "t": datetime(2026, 1, 1)},
        )
    db.dispose()
    svc = Service(make_settings(tmp_path, database_url))  # migrates to head
    try:
        with svc.db.session() as s:
            origin = s.execute(text("SELECT pdq_origin FROM bank_entries")).scalar_one()
            assert origin == "legacy"
        report = run_verify(svc)
        assert not report["ok"] and "banks row 1 is not sealed" in report["first_broken"]
        with svc.db.session() as s:
            counts = integrity_repo.seal_existing(s, svc.db.sealer)
        assert counts["banks"] == 1 and counts["bank_entries"] == 1
        assert run_verify(svc)["ok"]
    finally:
        svc.close()


def test_ledger_lookup_flags_a_forged_account(populated: Any) -> None:
    """`amparo trace` reads the ledger through GenerationLedger.get: a forged row says so."""
    from amparo.cli.trace import trace_line
    from amparo.proxy.ledger import GenerationLedger

    ledger = GenerationLedger.for_service(populated)
    assert ledger.get("gen-1")["integrity"] == "intact"
    _sql(populated, "UPDATE generations SET account = 'innocent-user' WHERE generation_id = 'gen-1'")
    rec = ledger.get("gen-1")
    assert rec["integrity"] == "altered"
    line = trace_line("x.png", {"found": True, "generation": rec, "method": "c2pa", "confidence": 1.0})
    assert "WARNING: ledger row altered" in line


def test_concurrent_writers_keep_heads_balanced(populated: Any) -> None:
    """Writers touching tables (and the audit head) in different orders neither deadlock nor
    unbalance a head: heads are locked last, in name order, once per transaction."""
    import threading

    from amparo.banks.management import Acting
    from amparo.banks.management import add_entries as bm_add
    from amparo.store.banks_repo import NewEntry

    svc = populated
    who = Acting(svc.audit, "cli:test", "admin")
    errors: list[BaseException] = []

    def work(t: int) -> None:
        try:
            for i in range(6):
                with svc.db.session() as s:
                    if (t + i) % 2:
                        s.add(CaseRow(source="manual", state="open", priority=1, title=f"c{t}-{i}"))
                        s.flush()
                    bm_add(s, who, bank="known", entries=[NewEntry("md5", f"{t:02x}{i:02x}".ljust(32, "e"))])
                    if not (t + i) % 2:
                        s.add(CaseRow(source="manual", state="open", priority=1, title=f"c{t}-{i}"))
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=120)
    assert not errors, errors
    report = run_verify(svc)
    assert report["ok"], report["first_broken"]
    rows = {t["table"]: t["rows"] for t in report["tables"]}
    assert rows["cases"] == 1 + 24 and rows["bank_entries"] == 2 + 24


def test_ledger_retention_purge_keeps_heads_balanced(populated: Any) -> None:
    from sqlalchemy import update

    from amparo.proxy.ledger import GenerationLedger

    svc = populated  # the ledger's retention runs bulk DELETE statements: the heads follow them
    ledger = GenerationLedger.for_service(svc)
    with svc.db.session() as s:  # a bulk ORM update through the session: resealed by the hook
        s.execute(
            update(GenerationRow).where(GenerationRow.generation_id == "gen-1").values(expires_at=datetime(2020, 1, 1))
        )
    assert run_verify(svc)["ok"]
    assert ledger.purge_expired() == 1
    report = run_verify(svc)
    assert report["ok"], report["first_broken"]
    assert {t["table"]: t["rows"] for t in report["tables"]}["generations"] == 1


def test_forged_index_change_is_found(populated: Any) -> None:
    """A "remove" slipped into the index feed would hide a bank entry from lookups."""
    svc = populated
    with svc.db.session() as s:
        bank = banks_repo.get_bank(s, name="known")
        banks_repo.add_entry(s, bank_id=bank.id, signal_type="pdq", value="f" * 64)
    assert run_verify(svc)["ok"]
    _sql(svc, "INSERT INTO index_changes (signal_type, entry_id, op, value) VALUES ('pdq', 3, 'remove', NULL)")
    assert "index_changes row 2 is not sealed" in _broken(svc)["first_broken"]


def test_covered_names_are_exactly_the_sealed_tables() -> None:
    """integrity_repo names its covered tables (so that a light process need not declare them all):
    each name is a table with a MAC column, and every table with one is named."""
    from amparo.integrity.mac import MAC_COLUMN
    from amparo.store import integrity_repo, schema

    sealed = {t.name for t in schema.metadata.tables.values() if MAC_COLUMN in t.c}
    assert set(integrity_repo.COVERED) == sealed
    assert len(integrity_repo.COVERED) == len(sealed)
