"""HMA's configuration, exchange and site-map routes, keys on HMA routes, and `?url=` when it is off."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.slow


def test_signal_and_content_types(hma) -> None:
    assert hma.client.get("/c/signal_type").json() == [
        {"name": "pdq", "enabled_ratio": 1.0},
        {"name": "video_md5", "enabled_ratio": 1.0},
    ]
    assert hma.client.get("/c/content_type").json() == [
        {"name": "photo", "enabled": True},
        {"name": "video", "enabled": True},
    ]
    off = hma.client.put("/c/signal_type/pdq", json={"enabled_ratio": 0.0})
    assert off.status_code == 403 and "message" in off.json()
    assert hma.client.post("/c/bank/X", json={}).status_code == 405
    hma.client.post("/c/banks", json={"name": "B"})
    hma.client.post("/c/bank/B/signal", json={"pdq": "f" * 64})
    index = hma.client.get("/c/signal_type/index", params={"signal_type": "pdq"}).json()
    assert index["pdq"]["db_size"] == 1 and index["pdq"]["index_size"] == 1
    assert index["pdq"]["index_out_of_date"] is False
    assert hma.client.get("/c/signal_type/index", params={"signal_type": "nope"}).status_code == 400


def test_exchanges_are_truthfully_absent(hma) -> None:
    assert hma.client.get("/c/exchanges").json() == []
    assert hma.client.get("/c/exchanges/apis").json() == []
    assert hma.client.get("/c/exchanges/api/ncmec").status_code == 400
    assert hma.client.post("/c/exchanges/api/ncmec", json={"credential_json": {}}).status_code == 400
    assert hma.client.get("/c/exchanges/api/ncmec/schema").status_code == 404
    for path in ("/c/exchange/NCMEC", "/c/exchange/NCMEC/status"):
        r = hma.client.get(path)
        assert r.status_code == 404 and r.json() == {"message": "Exchange 'NCMEC' not found"}
    assert hma.client.put("/c/exchange/NCMEC", json={"enabled": False}).status_code == 404
    assert hma.client.delete("/c/exchange/NCMEC").status_code == 404
    for body, word in (
        ({"api": "ncmec"}, "bank"),
        ({"bank": "lower", "api": "ncmec"}, "bank"),
        ({"bank": "NCMEC", "api_json": []}, "api_json"),
        ({"bank": "NCMEC"}, "api_type"),
        ({"bank": "NCMEC", "api": "ncmec"}, "ncmec"),
    ):
        r = hma.client.post("/c/exchanges", json=body)
        assert r.status_code == 400 and word in r.json()["message"], body
    assert hma.client.get("/c/banks").json() == []  # a refused exchange creates no bank


def test_site_map(hma) -> None:
    routes = hma.client.get("/site-map").json()
    assert routes == sorted(routes)
    for path in ("/m/compare", "/m/index/status", "/c/bank/{bank_name}/content/{content_id}", "/h/hash", "/status"):
        assert path in routes
    assert httpx.get(f"{hma.url}/site-map").status_code == 401


def test_keys_and_roles_on_hma_routes(hma) -> None:
    r = httpx.get(f"{hma.url}/c/banks")
    assert r.status_code == 401 and set(r.json()) == {"message"} and "WWW-Authenticate" in r.headers
    assert httpx.get(f"{hma.url}/c/banks", auth=("hma", "amp_wrong_key")).status_code == 401
    with hma.as_role("submitter") as sub:
        denied = sub.post("/c/banks", json={"name": "SUBMITTED"})
        assert denied.status_code == 403 and set(denied.json()) == {"message"}
        assert sub.get("/m/lookup", params={"signal_type": "pdq", "signal": "0" * 64}).json() == {}
    with hma.as_role("auditor") as aud:
        assert aud.get("/c/banks").status_code == 200
        assert aud.get("/m/lookup", params={"signal_type": "pdq", "signal": "0" * 64}).status_code == 403
    assert httpx.get(f"{hma.url}/status").text == "I-AM-ALIVE"
    assert httpx.get(f"{hma.url}/status/live").status_code == 200


def test_validation_errors_are_400_with_a_message(hma) -> None:
    for path, params in (
        ("/m/raw_lookup", {"signal_type": "pdq"}),
        ("/m/raw_lookup", {"signal_type": "pdq", "signal": "xyz"}),
        ("/m/lookup", {"signal_type": "nope", "signal": "0" * 64}),
        ("/c/bank/B/content/not-a-number", {}),
    ):
        r = hma.client.get(path, params=params)
        assert r.status_code == 400 and isinstance(r.json()["message"], str), (path, params)
    # The native API keeps its own shape.
    native = hma.client.get("/v1/banks/B/entries", params={"limit": "x"})
    assert native.status_code == 422 and "error" in native.json()


def test_url_fetching_is_off_unless_configured(live_api) -> None:
    url, keys = live_api
    with httpx.Client(base_url=url, auth=("hma", keys["admin"]), timeout=30) as c:
        assert c.post("/c/banks", json={"name": "B"}).status_code == 201
        for r in (
            c.get("/h/hash", params={"url": "http://127.0.0.1:9/x.jpg"}),
            c.post("/c/bank/B/content", params={"url": "http://127.0.0.1:9/x.jpg"}),
            c.get("/m/lookup", params={"url": "http://127.0.0.1:9/x.jpg"}),
        ):
            assert r.status_code == 400 and "off" in r.json()["message"]
