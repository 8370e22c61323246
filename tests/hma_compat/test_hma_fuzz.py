"""Malformed input on the HMA routes: any path segment, parameter or JSON body gets a 4xx with HMA's
`{"message"}` shape (or a 2xx), never a 5xx, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.slow

# Text that has broken servers before: NUL, lone surrogates, huge numbers, long strings.
nasty = st.one_of(
    st.text(max_size=300),
    st.sampled_from(["\x00", "A\x00B", "\ud800", "9" * 30, "-1", "1e309", "NaN", "A" * 5000, "%00", "../..", ""]),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), nasty),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(nasty, inner, max_size=4)),
    max_leaves=12,
)
FIELDS = ["name", "enabled", "enabled_ratio", "note", "metadata", "disable_until_ts", "pdq", "video_md5", "bank"]
bodies = st.one_of(json_values, st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5))


def _encode(value: object) -> bytes:
    return json.dumps(value).encode()  # lone surrogates travel escaped, as a client would send them


def _q(value: str) -> str:
    return value.encode("utf-8", "replace").decode()  # httpx encodes query values itself


def _check(r) -> None:  # type: ignore[no-untyped-def]
    assert r.status_code < 500, (r.request.method, r.request.url, r.status_code, r.text[:200])
    if r.status_code >= 400 and r.status_code not in (404, 405):
        assert "message" in r.json(), r.text[:200]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(segment=nasty, number=st.one_of(st.integers(), nasty), params=st.dictionaries(nasty, nasty, max_size=4))
def test_paths_and_parameters(hma, segment: str, number: object, params: dict[str, str]) -> None:
    hma.client.post("/c/banks", json={"name": "FUZZ"})
    # Percent-encoded as raw bytes: a lone surrogate arrives as the invalid UTF-8 an attacker would send.
    seg = quote(segment.encode("utf-8", "surrogatepass"), safe="")
    number = quote(str(number).encode("utf-8", "surrogatepass"), safe="")
    for method, path in (
        ("GET", f"/c/bank/{seg}"),
        ("GET", f"/c/bank/FUZZ/content/{number}"),
        ("DELETE", f"/c/bank/FUZZ/content/{number}"),
        ("GET", f"/c/bank/{seg}/content/1"),
        ("GET", f"/c/exchange/{seg}"),
        ("GET", "/m/lookup"),
        ("GET", "/m/raw_lookup"),
        ("GET", "/m/index/status"),
        ("GET", "/h/hash"),
        ("GET", "/c/signal_type/index"),
    ):
        query = {**params, "signal_type": segment, "signal": segment, "url": segment}
        _check(hma.client.request(method, path, params={_q(k): _q(v) for k, v in query.items()}))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_json_bodies(hma, body: object) -> None:
    hma.client.post("/c/banks", json={"name": "FUZZ"})
    cid = hma.client.post("/c/bank/FUZZ/signal", json={"pdq": "f" * 64}).json()["id"]
    for method, path in (
        ("POST", "/c/banks"),
        ("PUT", "/c/bank/FUZZ"),
        ("POST", "/c/bank/FUZZ/signal"),
        ("POST", "/c/bank/FUZZ/content"),
        ("PUT", f"/c/bank/FUZZ/content/{cid}"),
        ("POST", "/m/compare"),
        ("POST", "/c/exchanges"),
    ):
        _check(hma.client.request(method, path, content=_encode(body), headers={"content-type": "application/json"}))
    # Whatever was accepted, the bank is still readable in both shapes.
    assert hma.client.get("/c/banks").status_code == 200
    assert hma.client.get("/v1/banks").status_code == 200
