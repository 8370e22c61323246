"""The `?url=` SSRF guard (content/url_fetch.py) against a real local HTTP server: allowlist, non-public
addresses after resolution, DNS rebinding, redirects to private addresses, size and time caps."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest

from amparo.content.url_fetch import (
    FetchPolicy,
    UrlFetchFailed,
    UrlRefused,
    address_allowed,
    fetch,
    host_allowed,
)
from amparo.errors import TooLarge

BODY = b"\xff\xd8benign bytes\xff\xd9"


@dataclass
class Server:
    port: int
    hits: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def server() -> Iterator[Server]:
    state = Server(0)

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            state.hits.append((self.path, self.headers.get("Host", "")))
            path, query = urlsplit(self.path).path, parse_qs(urlsplit(self.path).query)
            if path == "/img":
                self._send(200, BODY, "image/jpeg")
            elif path == "/redirect":
                self.send_response(302)
                self.send_header("Location", query["to"][0])
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path == "/big-declared":
                self.send_response(200)
                self.send_header("Content-Length", str(10 * 1024 * 1024))
                self.end_headers()
            elif path == "/big-chunked":
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"x" * 4096
                for _ in range(64):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            elif path == "/slow":
                self.send_response(200)
                self.send_header("Content-Length", "100")
                self.end_headers()
                for _ in range(100):  # one byte every 0.2 s: no single read waits long, the total does
                    self.wfile.write(b"x")
                    self.wfile.flush()
                    time.sleep(0.2)
            else:
                self._send(404, b"no", "text/plain")

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    state.port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield state
    srv.shutdown()


def policy(*hosts: str, loopback: bool = True, max_bytes: int = 64 * 1024, timeout: float = 3.0) -> FetchPolicy:
    return FetchPolicy(hosts, max_bytes=max_bytes, timeout_seconds=timeout, max_redirects=3, allow_loopback=loopback)


def test_allowlisted_local_server_is_fetched_only_with_the_test_setting(server: Server) -> None:
    got = fetch(server.url("/img"), policy("127.0.0.1"))
    assert got.data == BODY and got.content_type == "image/jpeg"
    with pytest.raises(UrlRefused, match="non-public"):
        fetch(server.url("/img"), policy("127.0.0.1", loopback=False))
    assert len(server.hits) == 1


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/img",
        "file:///etc/passwd",
        "gopher://127.0.0.1:70/",
        "http://user:pw@127.0.0.1/img",
        "http:///img",
        "http://127.0.0.1:99999/img",
        "http://b\u00fccher.example/img",
    ],
)
def test_only_plain_http_urls_without_credentials(server: Server, url: str) -> None:
    with pytest.raises(UrlRefused):
        fetch(url, policy("127.0.0.1", "b\u00fccher.example"))
    assert server.hits == []


def test_allowlist(server: Server) -> None:
    for hosts in ((), ("example.org",), ("0.0.1",)):
        with pytest.raises(UrlRefused, match="allowlist"):
            fetch(server.url("/img"), policy(*hosts))
    assert server.hits == []
    assert host_allowed("media.example.org", ("example.org",))
    assert host_allowed("example.org", ("EXAMPLE.org.",))
    assert not host_allowed("badexample.org", ("example.org",))
    assert not host_allowed("example.org.evil.test", ("example.org",))
    assert host_allowed("anything.test", ("*",))


@pytest.mark.parametrize(
    "answer",
    [
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "100.64.0.1",
        "169.254.169.254",
        "127.0.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "ff02::1",
    ],
)
def test_names_resolving_to_non_public_addresses_are_refused(server: Server, answer: str) -> None:
    with pytest.raises(UrlRefused, match="non-public"):
        fetch("http://media.test/img", policy("media.test", loopback=False), resolve=lambda h, p: [answer])
    assert server.hits == []


def test_one_private_answer_among_public_ones_is_refused() -> None:
    calls = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return ["93.184.215.14", "10.0.0.7"]

    with pytest.raises(UrlRefused):
        fetch("http://media.test/img", policy("media.test", loopback=False), resolve=resolve)
    assert calls == ["media.test"]
    assert address_allowed(__import__("ipaddress").ip_address("93.184.215.14"))


def test_rebinding_cannot_switch_the_checked_address(server: Server) -> None:
    """A resolver that answers public first and private afterwards: the connection goes to the address
    that was checked, so the private service is never reached, and the name is resolved once."""
    answers = iter(["93.184.215.14", "127.0.0.1", "127.0.0.1"])
    calls: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        calls.append(host)
        return [next(answers)]

    with pytest.raises(UrlFetchFailed):
        fetch(
            f"http://rebind.test:{server.port}/img",
            policy("rebind.test", loopback=False, timeout=1.5),
            resolve=rebinding,
        )
    assert calls == ["rebind.test"]
    assert server.hits == []


def test_the_connection_is_pinned_to_the_checked_answer(server: Server) -> None:
    """The other way round: the first (checked) answer is the local test server, later answers would
    point elsewhere; the request reaches the checked address, with the original Host header."""
    answers = iter(["127.0.0.1", "10.0.0.1"])
    calls: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        return [next(answers)]

    got = fetch(f"http://pinned.test:{server.port}/img", policy("pinned.test"), resolve=resolve)
    assert got.data == BODY and calls == ["pinned.test"]
    assert server.hits == [("/img", f"pinned.test:{server.port}")]


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/admin",
        "http://[::1]/",
        "http://not-allowlisted.test/img",
        "file:///etc/passwd",
    ],
)
def test_redirects_are_checked_at_every_hop(server: Server, target: str) -> None:
    with pytest.raises(UrlRefused):
        fetch(server.url(f"/redirect?to={target}"), policy("127.0.0.1"))
    assert [p for p, _ in server.hits] == [f"/redirect?to={target}"]


def test_redirect_to_a_name_that_resolves_privately_is_refused(server: Server) -> None:
    resolve = {"127.0.0.1": ["127.0.0.1"], "inner.test": ["192.168.0.10"]}
    with pytest.raises(UrlRefused, match="non-public"):
        fetch(
            server.url("/redirect?to=http://inner.test/img"),
            policy("127.0.0.1", "inner.test"),
            resolve=lambda h, p: resolve[h],
        )


def test_allowed_redirects_are_followed_up_to_the_limit(server: Server) -> None:
    ok = fetch(server.url(f"/redirect?to={server.url('/img')}"), policy("127.0.0.1"))
    assert ok.data == BODY
    hop = server.url("/img")
    for _ in range(4):
        hop = server.url(f"/redirect?to={hop.replace('&', '%26').replace('?', '%3F').replace('=', '%3D')}")
    with pytest.raises(UrlRefused, match="redirects"):
        fetch(hop, policy("127.0.0.1"))


def test_size_cap(server: Server) -> None:
    with pytest.raises(TooLarge):
        fetch(server.url("/big-declared"), policy("127.0.0.1"))
    with pytest.raises(TooLarge):
        fetch(server.url("/big-chunked"), policy("127.0.0.1", max_bytes=100_000))
    assert len(fetch(server.url("/big-chunked"), policy("127.0.0.1", max_bytes=300_000)).data) == 64 * 4096


def test_time_cap_holds_against_a_slow_drip(server: Server) -> None:
    start = time.monotonic()
    with pytest.raises(UrlFetchFailed, match="longer"):
        fetch(server.url("/slow"), policy("127.0.0.1", timeout=1.0))
    assert time.monotonic() - start < 3.0


def test_error_status_is_a_fetch_failure(server: Server) -> None:
    with pytest.raises(UrlFetchFailed, match="404"):
        fetch(server.url("/missing"), policy("127.0.0.1"))


def test_settings_turn_the_test_only_loopback_off_in_production(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from conftest import make_settings

    from amparo.api.routes.hma_common import fetch_policy

    base = make_settings(tmp_path, "sqlite://").model_copy(
        update={"url_fetch_allow_loopback_for_tests": True, "url_fetch_allowed_hosts": " a.test, B.test ,"}
    )
    assert fetch_policy(base).allow_loopback is True
    assert fetch_policy(base).allowed_hosts == ("a.test", "b.test")
    prod = base.model_copy(update={"environment": "production"})
    assert fetch_policy(prod).allow_loopback is False
    small = base.model_copy(update={"max_upload_bytes": 1000})
    assert fetch_policy(small).max_bytes == 1000


def test_the_api_refuses_a_redirect_into_the_private_network(hma, server: Server) -> None:
    """Through the HMA routes: an allowlisted server redirects to the cloud metadata address."""
    target = "http://169.254.169.254/latest/meta-data/"
    for r in (
        hma.client.get("/h/hash", params={"url": server.url(f"/redirect?to={target}")}),
        hma.client.get("/m/lookup", params={"url": server.url(f"/redirect?to={target}")}),
    ):
        assert r.status_code == 400 and "allowlist" in r.json()["message"]
    assert hma.client.post("/c/banks", json={"name": "B"}).status_code == 201
    add = hma.client.post("/c/bank/B/content", params={"url": server.url(f"/redirect?to={target}")})
    assert add.status_code == 400
    assert hma.client.get("/c/signal_type/index").json()["pdq"]["db_size"] == 0  # nothing was added
    assert len(server.hits) == 3
    not_image = hma.client.get("/h/hash", params={"url": server.url("/big-chunked"), "content_type": "photo"})
    assert not_image.status_code == 415 and "message" in not_image.json()  # fetched, then refused by the decoder
