"""Shared fixtures: benign data, a database per test on SQLite and PostgreSQL, services, stand-ins."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
PG_URL = os.environ.get("AMPARO_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    assert SHARED_DATA.is_dir(), f"benign test data not found at {SHARED_DATA}"
    return SHARED_DATA


def _pg_available() -> bool:
    try:
        import sqlalchemy as sa

        eng = sa.create_engine(PG_URL)
        with eng.connect() as c:
            c.execute(sa.text("SELECT 1"))
        eng.dispose()
        return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def pg_available() -> bool:
    ok = _pg_available()
    if not ok and IN_CI:
        pytest.fail(f"PostgreSQL is required in CI (CI=true) but {PG_URL} is unreachable")
    return ok


@pytest.fixture
def pg_url(pg_available: bool) -> Iterator[str]:
    """A fresh schema on the local PostgreSQL, dropped afterwards."""
    if not pg_available:
        pytest.skip("PostgreSQL not reachable (runs in CI)")
    import sqlalchemy as sa

    schema = "t_" + uuid.uuid4().hex[:12]
    eng = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    yield f"{PG_URL}?options=-csearch_path%3D{schema}"
    with eng.connect() as c:
        c.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    eng.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'amparo.db'}"
    return request.getfixturevalue("pg_url")


def make_settings(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    from amparo.settings import Settings

    return Settings(
        environment="test",
        data_dir=tmp_path / "data",
        database_url=database_url,
        detectors="none",
        master_key="11" * 32,
        watermark_key="22" * 32,
        session_secret="s" * 32,
        index_refresh_seconds=0.2,
    )


@pytest.fixture
def settings(tmp_path: Path, database_url: str):  # type: ignore[no-untyped-def]
    return make_settings(tmp_path, database_url)


@pytest.fixture
def sqlite_service(tmp_path: Path):  # type: ignore[no-untyped-def]
    """For tests whose subject does not depend on the database."""
    from amparo.service import Service

    svc = Service(make_settings(tmp_path, f"sqlite:///{tmp_path / 'amparo.db'}"))
    yield svc
    svc.close()


@pytest.fixture
def service(settings):  # type: ignore[no-untyped-def]
    from amparo.service import Service

    svc = Service(settings)
    yield svc
    svc.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    def __init__(self, app, port: int) -> None:  # type: ignore[no-untyped-def]
        import uvicorn

        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture
def live_api(service):  # type: ignore[no-untyped-def]
    """The real app on a real port; yields (base_url, {role: key})."""
    from amparo.api.factory import build_app
    from amparo.store import keys_repo

    keys = {}
    with service.db.session() as s:
        for role in keys_repo.ROLES:
            _, keys[role] = keys_repo.create_key(s, name=f"test-{role}", role=role)
    with LiveServer(build_app(service), free_port()) as srv:
        yield srv.url, keys
