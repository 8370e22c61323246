"""Finding 10: SQLite reused bank entry ids after a delete, so an old bank_content_id named another hash."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from amparo.store import banks_repo
from amparo.store.database import Database, alembic_config


def test_a_deleted_entry_id_is_never_handed_out_again(database_url: str) -> None:
    db = Database(database_url)
    db.migrate()
    try:
        with db.session() as s:
            bank = banks_repo.create_bank(s, name="IDS", category="other").id
            first = banks_repo.add_entry(s, bank_id=bank, signal_type="md5", value="a" * 32)
            last = banks_repo.add_entry(s, bank_id=bank, signal_type="md5", value="b" * 32)
        with db.session() as s:
            banks_repo.remove_entries(s, entry_ids=[last])  # the largest id: the one SQLite reused
        with db.session() as s:
            new = banks_repo.add_entry(s, bank_id=bank, signal_type="md5", value="c" * 32)
        assert new > last > first
    finally:
        db.dispose()


def test_the_migration_keeps_existing_entries_and_their_ids(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = sa.create_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0003_generation")  # a database from before the fix
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO banks (id, name, category, source, description, pdq_threshold, negative, enabled,"
            " created_at, updated_at) VALUES (1, 'OLD', 'other', 'local', '', 31, 0, 1, '2026-01-01', '2026-01-01')"
        )
        for i in (3, 7):
            conn.exec_driver_sql(
                "INSERT INTO bank_entries (id, bank_id, signal_type, value, opinion, enabled, entry_metadata,"
                f" created_at) VALUES ({i}, 1, 'md5', '{i:032d}', 'positive', 1, '{{}}', '2026-01-01')"
            )
    engine.dispose()
    db = Database(url)
    db.migrate()
    try:
        with db.engine.connect() as conn:
            ddl = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'bank_entries'").scalar()
            indexes = {
                r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE tbl_name = 'bank_entries'")
            }
            assert "AUTOINCREMENT" in ddl
            assert {"ix_bank_entries_lookup", "ix_bank_entries_bank_id"} <= indexes
            assert [r[0] for r in conn.exec_driver_sql("SELECT id FROM bank_entries ORDER BY id")] == [3, 7]
        with db.session() as s:
            banks_repo.remove_entries(s, entry_ids=[7])
        with db.session() as s:
            assert banks_repo.add_entry(s, bank_id=1, signal_type="md5", value="f" * 32) == 8
    finally:
        db.dispose()
