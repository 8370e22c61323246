"""Finding 4: the upload limit held only after the whole body had arrived (a 300 MiB body was read and
spooled to disk; a claimed 5 GB body hung the request for 30 s)."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from conftest import LiveServer, free_port, make_settings

from amparo.api.factory import build_app
from amparo.service import Service
from amparo.store import keys_repo

LIMIT = 512 * 1024  # max_upload_bytes in these tests: the body limit is this plus 1 MiB


@pytest.fixture
def small_limit_api(tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'a.db'}")
    settings.max_upload_bytes = LIMIT
    svc = Service(settings)
    with svc.db.session() as s:
        _, key = keys_repo.create_key(s, name="t", role="submitter")
    with LiveServer(build_app(svc), free_port()) as srv:
        yield srv.url, key
    svc.close()


def _raw(url: str) -> socket.socket:
    host, port = url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=10)


def _read_status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1])


def test_a_claimed_5_gb_body_is_refused_at_once(small_limit_api) -> None:  # type: ignore[no-untyped-def]
    url, key = small_limit_api
    sock = _raw(url)
    t0 = time.monotonic()
    sock.sendall(
        b"POST /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key.encode() + b"\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 5368709120\r\n\r\n--b\r\n"
    )
    assert _read_status(sock) == 413
    assert time.monotonic() - t0 < 2.0
    sock.close()


def test_a_chunked_body_is_cut_off_at_the_limit(small_limit_api) -> None:  # type: ignore[no-untyped-def]
    url, key = small_limit_api
    total = 256 * 1024 * 1024  # far more than the socket buffers can absorb
    sent = 0
    sock = _raw(url)
    sock.sendall(
        b"POST /v1/check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + key.encode() + b"\r\n"
        b"Content-Type: multipart/form-data; boundary=b\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    head = b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n\r\n'
    sock.sendall(b"%x\r\n" % len(head) + head + b"\r\n")
    chunk = b"%x\r\n" % (64 * 1024) + b"\0" * (64 * 1024) + b"\r\n"

    def pump() -> None:
        nonlocal sent
        try:
            while sent < total:
                sock.sendall(chunk)
                sent += 64 * 1024
        except OSError:
            pass  # the server answered and closed: what this test expects

    t = threading.Thread(target=pump, daemon=True)
    t.start()
    assert _read_status(sock) == 413
    assert sent < total // 4  # answered long before the body was through
    sock.close()
    t.join(timeout=10)


def test_bodies_within_the_limit_still_work(small_limit_api, shared_data) -> None:  # type: ignore[no-untyped-def]
    url, key = small_limit_api
    img = (shared_data / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    assert len(img) < LIMIT
    r = httpx.post(f"{url}/v1/hash", files={"file": ("a.jpg", img)}, headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 200
    # an upload over max_upload_bytes but within the body allowance is still refused by the route
    r = httpx.post(
        f"{url}/v1/hash", files={"file": ("a.jpg", b"\xff" * (LIMIT + 10))}, headers={"Authorization": f"Bearer {key}"}
    )
    assert r.status_code == 413
    # and a body over the allowance streamed by an ordinary client gets the same 413
    r = httpx.post(
        f"{url}/v1/hash",
        files={"file": ("a.jpg", b"\xff" * (LIMIT + 2 * 1024 * 1024))},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
