"""Finding 10: a full disk gave 500 and /ready still said ready; amparo.db was created world-readable."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
from conftest import LiveServer, free_port, make_settings
from sqlalchemy import event

from amparo.api.factory import build_app
from amparo.service import Service
from amparo.store import keys_repo


def test_the_database_and_data_directory_are_owner_only(tmp_path: Path) -> None:
    svc = Service(make_settings(tmp_path, f"sqlite:///{tmp_path / 'data' / 'amparo.db'}"))
    try:
        with svc.db.session() as s:
            keys_repo.create_key(s, name="perm", role="admin")  # a write: the WAL exists now
        db = tmp_path / "data" / "amparo.db"
        for f in [db, *db.parent.glob("amparo.db-*")]:
            assert stat.S_IMODE(f.stat().st_mode) & 0o077 == 0, f
        assert stat.S_IMODE((tmp_path / "data").stat().st_mode) & 0o077 == 0
    finally:
        svc.close()


def test_a_full_disk_is_507_and_not_ready(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'full.db'}")
    svc = Service(settings)
    with svc.db.session() as s:
        _, key = keys_repo.create_key(s, name="full", role="admin")
    try:
        with LiveServer(build_app(svc), free_port()) as srv:
            h = {"Authorization": f"Bearer {key}"}
            assert httpx.get(f"{srv.url}/ready").status_code == 200
            # SQLite's own "database or disk is full" (SQLITE_FULL): no page may be added any more
            svc.db.engine.dispose()

            @event.listens_for(svc.db.engine, "connect")
            def _full(dbapi_conn, _record):  # type: ignore[no-untyped-def]
                cur = dbapi_conn.cursor()
                pages = cur.execute("PRAGMA page_count").fetchone()[0]
                cur.execute(f"PRAGMA max_page_count = {pages}")
                cur.close()

            filler = {"name": "FULL", "category": "other", "description": "x" * 100_000}
            r = httpx.post(f"{srv.url}/v1/banks", json=filler, headers=h, timeout=30)
            assert r.status_code == 507 and r.json()["error"]["code"] == "insufficient_storage"
            ready = httpx.get(f"{srv.url}/ready")
            assert ready.status_code == 503 and any("storage" in p for p in ready.json()["problems"])
    finally:
        svc.close()


def test_ready_reports_a_nearly_full_data_directory(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'a.db'}")
    settings.min_free_disk_bytes = 2**60  # more than any disk has free
    svc = Service(settings)
    try:
        with LiveServer(build_app(svc), free_port()) as srv:
            r = httpx.get(f"{srv.url}/ready")
            assert r.status_code == 503 and any(p.startswith("disk:") for p in r.json()["problems"])
    finally:
        svc.close()
