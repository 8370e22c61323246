"""Two `amparo serve` processes on one PostgreSQL, each with its own data directory and index (as
two pods): a hash added through one is matched through the other within a second, and a replica
stopped with SIGTERM under load, then started again, drops no accepted check."""

from __future__ import annotations

import io
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from conftest import REPO, free_port

from amparo.provenance.watermark_samples import draw_benign_image

pytestmark = pytest.mark.postgres

SECRETS = {
    "AMPARO_MASTER_KEY": "11" * 32,
    "AMPARO_WATERMARK_KEY": "22" * 32,
    "AMPARO_SESSION_SECRET": "s" * 32,
    "AMPARO_INTEGRITY_KEY": "33" * 32,
}


def _env(pg_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPARO_")}
    env.update(SECRETS)
    env.update(
        AMPARO_ENVIRONMENT="test",
        AMPARO_DATABASE_URL=pg_url,
        AMPARO_DATA_DIR=str(data_dir),
        AMPARO_DETECTORS="none",
        PYTHONPATH=str(REPO / "src"),
        OMP_NUM_THREADS="1",
    )
    return env  # the refresh interval is the default: the test holds the default to 1 s


class Replica:
    def __init__(self, pg_url: str, data_dir: Path) -> None:
        self.env = _env(pg_url, data_dir)
        self.log = data_dir.parent / f"{data_dir.name}.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        cmd = [sys.executable, "-m", "amparo.cli.main", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        with self.log.open("ab") as log:  # a file, not a pipe: access logs never block the server
            self.proc = subprocess.Popen(cmd, env=self.env, stdout=log, stderr=log)

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self._stderr()
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"replica {self.url} did not start")

    def stop(self, timeout: float = 30) -> bool:
        """SIGTERM; True when the server shut down gracefully (uvicorn finishes the requests it
        accepted, runs the app's shutdown, then exits re-raising the signal)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout)
        self.proc = None
        log = self._stderr()
        return rc in (0, -signal.SIGTERM) and "Application shutdown complete" in log.rsplit("Shutting down", 1)[-1]

    def _stderr(self) -> str:
        return self.log.read_text(errors="replace")[-20000:] if self.log.exists() else ""

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def replicas(pg_url: str, tmp_path: Path) -> Iterator[tuple[Replica, Replica, str]]:
    # One installation: replica A's keys directory is what a Secret gives every replica.
    a_dir, b_dir = tmp_path / "a", tmp_path / "b"
    env = _env(pg_url, a_dir)
    out = subprocess.run(
        [sys.executable, "-m", "amparo.cli.main", "keys", "create", "ops", "--role", "admin", "--json"],
        env=env,
        capture_output=True,
        check=True,
    )
    import json

    key = json.loads(out.stdout)["key"]
    shutil.copytree(a_dir / "keys", b_dir / "keys")
    a, b = Replica(pg_url, a_dir), Replica(pg_url, b_dir)
    try:
        a.start()
        b.start()
        a.wait_ready()
        b.wait_ready()
        yield a, b, key
    finally:
        a.kill()
        b.kill()


def _png(seed: int) -> bytes:
    buf = io.BytesIO()
    draw_benign_image(seed, 64).save(buf, "PNG")
    return buf.getvalue()


def test_two_replicas_share_the_bank_and_survive_a_restart(replicas: Any, pg_url: str) -> None:
    """A hash added through replica A is matched through replica B within 1 s."""
    a, b, key = replicas
    h = {"Authorization": f"Bearer {key}"}
    pdq = "f" * 16 + "0" * 16 + "a5" * 16
    with httpx.Client(headers=h, timeout=10) as c:
        assert c.post(a.url + "/v1/banks", json={"name": "known", "category": "csam"}).status_code == 201
        lookup = {"signal_type": "pdq", "signal": pdq}
        assert c.get(b.url + "/m/raw_lookup", params=lookup).json()["matches"] == []
        r = c.post(a.url + "/v1/banks/known/entries", json={"entries": [{"signal_type": "pdq", "value": pdq}]})
        assert r.status_code == 201, r.text
        added = time.monotonic()
        entry_id = r.json()["ids"][0]
        while True:
            found = c.get(b.url + "/m/raw_lookup", params=lookup).json()["matches"]
            waited = time.monotonic() - added
            if found:
                break
            assert waited < 1.0, "replica B did not see the new hash within 1 s"
            time.sleep(0.02)
    assert found == [entry_id]
    assert waited < 1.0
    _restart_under_load(a, b, h, pg_url)


def _restart_under_load(a: Replica, b: Replica, h: dict[str, str], pg_url: str) -> None:
    """A replica stopped with SIGTERM under load drops no accepted check."""
    images = [_png(i) for i in range(4)]
    answered: list[tuple[int, str]] = []  # (event_id, replica) of every 2xx
    refused: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()

    def client(n: int) -> None:
        with httpx.Client(headers=h, timeout=30) as c:
            i = 0
            while not stop.is_set():
                target = a if (i + n) % 2 == 0 else b  # round robin, as a load balancer
                i += 1
                try:
                    r = c.post(target.url + "/v1/check", files={"file": ("x.png", images[i % 4], "image/png")})
                except httpx.HTTPError as e:  # not accepted: the balancer would retry elsewhere
                    with lock:
                        refused.append(type(e).__name__)
                    time.sleep(0.02)
                    continue
                if r.status_code // 100 == 2:
                    with lock:
                        answered.append((int(r.json()["event_id"]), target.url))
                else:
                    with lock:
                        refused.append(str(r.status_code))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(2)
        before_stop = len(answered)
        assert a.stop(), "SIGTERM: the replica should finish its requests and exit cleanly\n" + a._stderr()[-3000:]
        during = len(answered)
        time.sleep(1)  # B alone
        a.start()
        a.wait_ready()
        time.sleep(1.5)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert before_stop > 0 and len(answered) > during, (before_stop, during, len(answered), refused[:5])
    assert any(u == a.url for _, u in answered[during:]), "the restarted replica answered again"
    ids = [e for e, _ in answered]
    assert len(set(ids)) == len(ids)
    eng = sa.create_engine(pg_url)
    try:
        with eng.connect() as c:
            stored = {int(r[0]) for r in c.execute(sa.text("SELECT id FROM events"))}
    finally:
        eng.dispose()
    # every answered check is durable, and no check was recorded without its answer
    assert set(ids) <= stored, f"answered but not stored: {sorted(set(ids) - stored)[:10]}"
    assert stored == set(ids), f"stored but never answered (half-done): {sorted(stored - set(ids))[:10]}"
