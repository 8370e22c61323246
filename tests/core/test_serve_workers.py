"""`amparo serve --workers 2` (issue 13, item 2): the real command, its real worker processes. Workers
answer only once their Service is built; a worker that dies is started again while the other keeps
answering; exact hashes banked through one worker are found through the other, without the database
being asked for hashes that are not banked."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import free_port

pytestmark = pytest.mark.slow


def _workers(pid: int) -> set[int]:
    """The supervisor's worker processes (multiprocessing's spawned children, not its resource tracker)."""
    out: set[int] = set()
    for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
        if b"spawn_main" in cmd:
            out.add(int(child))
    return out


def _two_workers(pid: int, without: int | None = None) -> set[int] | None:
    ws = _workers(pid)
    return ws if len(ws) == 2 and without not in ws else None


def _wait(predicate, timeout: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_two_workers_start_ready_restart_and_share_banks(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPARO_")}
    env.update(AMPARO_DATA_DIR=str(tmp_path / "data"), AMPARO_DETECTORS="none", OMP_NUM_THREADS="1")
    cli = [sys.executable, "-m", "amparo.cli.main"]
    made = subprocess.run([*cli, "keys", "create", "t", "--role", "admin", "--json"], env=env, capture_output=True)
    key = json.loads(made.stdout)["key"]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [*cli, "serve", "--port", str(port), "--workers", "2"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as c:

            def ready() -> bool:
                try:
                    return c.get("/ready").status_code == 200
                except httpx.HTTPError:
                    return False

            _wait(ready, 120, "the first ready worker")
            workers = _wait(lambda: _two_workers(server.pid), 60, "two workers")
            # Bank an MD5 through the API (one worker), then look it up many times: any worker finds
            # it once its refresh ran (the index refresh interval, 2 s by default); an unbanked one
            # is never found.
            assert c.post("/v1/banks", json={"name": "b", "category": "csam"}).status_code in (200, 201)
            banked = hashlib.md5(b"benign test bytes").hexdigest()
            r = c.post("/v1/banks/b/entries", json={"entries": [{"signal_type": "md5", "value": banked}]})
            assert r.status_code in (200, 201), r.text
            time.sleep(3)
            for _ in range(20):
                found = c.post("/v1/lookup", json={"signals": [{"type": "md5", "value": banked}]}).json()
                assert [m["bank"] for m in found["matches"]] == ["b"], found
                raw = c.get("/m/raw_lookup", params={"signal_type": "video_md5", "signal": banked}).json()
                assert len(raw["matches"]) == 1, raw
                miss = c.get("/m/raw_lookup", params={"signal_type": "video_md5", "signal": "0" * 32}).json()
                assert miss == {"matches": []}

            victim = min(workers)
            os.kill(victim, signal.SIGKILL)
            # The other worker keeps answering new connections while the dead one is replaced (the
            # kept-alive connection to the dead worker is gone with it, as with any crashed server).
            for _ in range(10):
                r = httpx.get(
                    f"{url}/m/raw_lookup",
                    params={"signal_type": "video_md5", "signal": banked},
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=30,
                )
                assert r.status_code == 200
            replaced = _wait(lambda: _two_workers(server.pid, without=victim), 60, "a new worker")
            assert victim not in replaced and len(replaced) == 2
    finally:
        server.send_signal(signal.SIGTERM)
        _, err = server.communicate(timeout=60)
    assert server.returncode == 0, err
    assert "ready in" in err and "starting it again" in err, err


def _held_connections(pid: int, port: int) -> int:
    """Established TCP connections on `port` whose socket this process holds (from /proc)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
            inodes.add(fields[9])
    held = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and target[8:-1] in inodes:
            held += 1
    return held


def _response(conn: socket.socket) -> bytes:
    """One whole HTTP/1.1 response with a Content-Length body, read off a kept-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += conn.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(h.split(b":")[1] for h in head.split(b"\r\n") if h.lower().startswith(b"content-length:")))
    while len(body) < length:
        body += conn.recv(65536)
    assert len(body) == length, (head, body)
    return head


def test_a_burst_of_kept_alive_connections_is_dealt_out_evenly(tmp_path: Path) -> None:
    """Eight connections opened at once, as a load balancer's pool or wrk opens them: each of two
    workers holds four (an event loop that accepts for itself took all eight when it woke first)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AMPARO_")}
    env.update(AMPARO_DATA_DIR=str(tmp_path / "data"), AMPARO_DETECTORS="none", OMP_NUM_THREADS="1")
    port = free_port()
    cli = [sys.executable, "-m", "amparo.cli.main"]
    server = subprocess.Popen([*cli, "serve", "--port", str(port), "--workers", "2"], env=env, stderr=subprocess.PIPE)
    conns: list[socket.socket] = []
    try:
        assert server.stderr is not None
        seen = b""
        while b"(2/2)" not in seen:  # both workers ready, so both take turns from the first connection
            line = server.stderr.readline()
            assert line, seen.decode()
            seen += line
        workers = _workers(server.pid)
        conns = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(8)]

        def all_held() -> list[int] | None:
            held = sorted(_held_connections(w, port) for w in workers)
            return held if sum(held) == 8 else None

        held = _wait(all_held, 30, "eight accepted connections")
        assert held == [4, 4], held
        for _ in range(2):  # every connection is served, and kept alive
            for conn in conns:
                conn.sendall(b"GET /health HTTP/1.1\r\nHost: amparo\r\n\r\n")
                assert _response(conn).startswith(b"HTTP/1.1 200")
        assert sorted(_held_connections(w, port) for w in workers) == [4, 4]
    finally:
        for conn in conns:
            conn.close()
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=60)
    assert server.returncode == 0
