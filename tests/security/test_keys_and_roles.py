"""Finding 2 (a revoked key kept working until restart), finding 10 (reviewer keys generating through
the proxy) and finding 11 (401 without a WWW-Authenticate challenge)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from conftest import LiveServer, free_port

from amparo.api.factory import build_app
from amparo.service import Service
from amparo.store import keys_repo

SRC = Path(__file__).resolve().parents[2] / "src"


def h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def _cli_env(settings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPARO_")}
    env.update(
        PYTHONPATH=str(SRC),
        AMPARO_ENVIRONMENT="test",
        AMPARO_DATA_DIR=str(settings.data_dir),
        AMPARO_DATABASE_URL=settings.resolved_database_url,
        AMPARO_MASTER_KEY="11" * 32,
        AMPARO_DETECTORS="none",
    )
    return env


def test_a_key_revoked_by_another_process_stops_working_at_once(settings) -> None:  # type: ignore[no-untyped-def]
    # Two app instances (two services, as two replicas) share the database; a third process revokes.
    a, b = Service(settings), Service(settings)
    try:
        with a.db.session() as s:
            row, key = keys_repo.create_key(s, name="soon-revoked", role="submitter")
            prefix = row.prefix
        with LiveServer(build_app(a), free_port()) as sa, LiveServer(build_app(b), free_port()) as sb:
            for url in (sa.url, sb.url):  # both have authenticated (and would have cached) the key
                assert httpx.get(f"{url}/v1/banks", headers=h(key)).status_code in (200, 403)
            out = subprocess.run(
                [sys.executable, "-c", "from amparo.cli.main import main; main()", "keys", "revoke", prefix, "--json"],
                env=_cli_env(settings),
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert out.returncode == 0, out.stderr
            for url in (sa.url, sb.url):
                r = httpx.get(f"{url}/v1/banks", headers=h(key))
                assert r.status_code == 401
                assert r.headers["www-authenticate"].startswith("Bearer")
    finally:
        a.close()
        b.close()


def test_every_401_carries_a_challenge(live_api) -> None:  # type: ignore[no-untyped-def]
    url, _ = live_api
    for path in ("/v1/banks", "/v1/events/1", "/h/hash"):
        r = httpx.get(f"{url}{path}")
        assert r.status_code == 401, path
        assert r.headers.get("www-authenticate") == 'Bearer realm="amparo"', path


def test_reviewer_and_auditor_keys_cannot_generate_through_the_proxy(settings) -> None:  # type: ignore[no-untyped-def]
    settings.upstream_url = "http://127.0.0.1:9/v1"  # never reached: the role check comes first
    svc = Service(settings)
    try:
        keys = {}
        with svc.db.session() as s:
            for role in keys_repo.ROLES:
                _, keys[role] = keys_repo.create_key(s, name=f"p-{role}", role=role)
        with LiveServer(build_app(svc), free_port()) as srv:
            body = {"prompt": "a lighthouse at dusk", "size": "256x256"}
            for role in ("reviewer", "auditor"):
                r = httpx.post(f"{srv.url}/v1/images/generations", json=body, headers=h(keys[role]))
                assert r.status_code == 403, role
                assert r.json()["error"]["code"] == "insufficient_permissions"
            r = httpx.post(f"{srv.url}/v1/images/generations", json=body, headers=h("amp_nope_nope"))
            assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    finally:
        svc.close()
