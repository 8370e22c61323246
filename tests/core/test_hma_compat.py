"""HMA-compatible routes answer an HMA-style client (requests shaped as HMA's API docs and UI send them)."""

from __future__ import annotations

import httpx
import pytest


@pytest.fixture
def client(live_api):  # type: ignore[no-untyped-def]
    url, keys = live_api
    # HTTP Basic with the key as password: clients that only take a base URL can use http://x:KEY@host
    with httpx.Client(base_url=url, auth=("hma", keys["admin"]), timeout=60) as c:
        yield c


def test_hma_flow(client, shared_data) -> None:
    assert client.get("/status").text == "I-AM-ALIVE"
    r = client.post("/c/banks", json={"name": "TEST_BANK", "enabled_ratio": 1.0})
    assert r.status_code == 201 and r.json() == {"name": "TEST_BANK", "matching_enabled_ratio": 1.0}
    assert client.post("/c/banks", json={"name": "TEST_BANK"}).status_code == 403
    assert {"name": "TEST_BANK", "matching_enabled_ratio": 1.0} in client.get("/c/banks").json()
    photo = (shared_data / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    hashed = client.post("/h/hash", files={"photo": ("a.jpg", photo, "image/jpeg")}).json()
    assert set(hashed) == {"pdq"} and len(hashed["pdq"]) == 64
    added = client.post("/c/bank/TEST_BANK/content", files={"photo": ("a.jpg", photo, "image/jpeg")}).json()
    assert added["signals"]["pdq"] == hashed["pdq"]
    raw = client.post("/c/bank/TEST_BANK/signal", json={"pdq": "ab" * 32}).json()
    assert raw["signals"] == {"pdq": "ab" * 32}
    near = (shared_data / "pdq" / "bridge-mods" / "blur-a-lot.jpg").read_bytes()
    near_pdq = client.post("/h/hash", files={"photo": ("b.jpg", near)}).json()["pdq"]
    got = client.get("/m/lookup", params={"signal_type": "pdq", "signal": near_pdq}).json()
    assert list(got) == ["TEST_BANK"] and got["TEST_BANK"][0]["bank_content_id"] == added["id"]
    assert isinstance(got["TEST_BANK"][0]["distance"], str)
    posted = client.post("/m/lookup", files={"photo": ("b.jpg", near)}).json()
    assert posted["pdq"]["TEST_BANK"][0]["bank_content_id"] == added["id"]
    raw_lookup = client.get(
        "/m/raw_lookup", params={"signal_type": "pdq", "signal": near_pdq, "include_distance": "true"}
    ).json()
    assert raw_lookup["matches"][0]["bank_content_id"] == added["id"]
    assert client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": near_pdq}).json() == {
        "matches": [added["id"]]
    }
    content = client.get(f"/c/bank/TEST_BANK/content/{added['id']}").json()
    assert content["signals"]["pdq"] == hashed["pdq"]
    client.put("/c/bank/TEST_BANK", json={"enabled_ratio": 0.0})
    assert client.get("/m/lookup", params={"signal_type": "pdq", "signal": near_pdq}).json() == {}
    assert client.delete(f"/c/bank/TEST_BANK/content/{added['id']}").json() == {"deleted": 1}
    assert client.delete("/c/bank/TEST_BANK").status_code == 200


def test_hma_routes_need_a_key(live_api) -> None:
    url, _ = live_api
    assert httpx.get(f"{url}/c/banks").status_code == 401
    assert httpx.get(f"{url}/status").status_code == 200
