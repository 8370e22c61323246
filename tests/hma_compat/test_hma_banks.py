"""HMA's bank routes (/c/banks, /c/bank/<name>): names, ratios, renames, deletes, error shape."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow


def test_no_banks_is_an_empty_list(hma) -> None:
    r = hma.client.get("/c/banks")
    assert r.status_code == 200 and r.json() == []


@pytest.mark.parametrize("bad", ["01_TEST_BANK", "my_test_bank", "BANK-1", "BANK 1", "", "A" * 101])
def test_bank_names_follow_hma_rules(hma, bad: str) -> None:
    r = hma.client.post("/c/banks", json={"name": bad})
    assert r.status_code == 400
    assert set(r.json()) == {"message"}
    assert hma.client.get("/c/banks").json() == []  # nothing was created


def test_create_list_get_and_duplicate(hma) -> None:
    r = hma.client.post("/c/banks", json={"name": "MY_TEST_BANK_01"})
    assert r.status_code == 201
    assert r.json() == {"name": "MY_TEST_BANK_01", "matching_enabled_ratio": 1.0}
    assert hma.client.post("/c/banks", json={"name": "_UNDERSCORE_FIRST"}).status_code == 201
    assert hma.client.get("/c/banks").json() == [
        {"name": "MY_TEST_BANK_01", "matching_enabled_ratio": 1.0},
        {"name": "_UNDERSCORE_FIRST", "matching_enabled_ratio": 1.0},
    ]
    assert hma.client.get("/c/bank/MY_TEST_BANK_01").json() == {
        "name": "MY_TEST_BANK_01",
        "matching_enabled_ratio": 1.0,
    }
    dup = hma.client.post("/c/banks", json={"name": "MY_TEST_BANK_01"})
    assert dup.status_code == 403 and "message" in dup.json()
    missing = hma.client.get("/c/bank/NOPE")
    assert missing.status_code == 404 and "NOPE" in missing.json()["message"]


def test_create_with_enabled_flag_or_ratio(hma) -> None:
    assert hma.client.post("/c/banks", json={"name": "OFF", "enabled": False}).json()["matching_enabled_ratio"] == 0.0
    assert hma.client.post("/c/banks", json={"name": "HALF", "enabled_ratio": 0.25}).json() == {
        "name": "HALF",
        "matching_enabled_ratio": 0.25,
    }
    assert hma.client.post("/c/banks", json={"name": "TOO_MUCH", "enabled_ratio": 1.5}).status_code == 400
    assert hma.client.post("/c/banks", json={"name": "NOT_NUM", "enabled_ratio": "lots"}).status_code == 400
    # The native API sees a bank with a ratio above 0 as enabled, and ratio 0 as disabled.
    native = {b["name"]: b["enabled"] for b in hma.client.get("/v1/banks").json()}
    assert native == {"OFF": False, "HALF": True}


def test_update_renames_and_sets_ratio(hma) -> None:
    assert hma.client.post("/c/banks", json={"name": "MY_TEST_BANK"}).status_code == 201
    bad = hma.client.put("/c/bank/MY_TEST_BANK", json={"name": "1_invalid_name"})
    assert bad.status_code == 400 and set(bad.json()) == {"message"}
    r = hma.client.put("/c/bank/MY_TEST_BANK", json={"name": "MY_TEST_BANK_RENAMED"})
    assert r.status_code == 200 and r.json()["name"] == "MY_TEST_BANK_RENAMED"
    r = hma.client.put("/c/bank/MY_TEST_BANK_RENAMED", json={"enabled": False})
    assert r.status_code == 200 and r.json()["matching_enabled_ratio"] == 0
    r = hma.client.put("/c/bank/MY_TEST_BANK_RENAMED", json={"enabled_ratio": 0.5})
    assert r.status_code == 200 and r.json()["matching_enabled_ratio"] == 0.5
    assert hma.client.get("/c/banks").json() == [{"name": "MY_TEST_BANK_RENAMED", "matching_enabled_ratio": 0.5}]
    assert hma.client.put("/c/bank/NOPE", json={"enabled": True}).status_code == 404
    assert hma.client.post("/c/banks", json={"name": "OTHER"}).status_code == 201
    clash = hma.client.put("/c/bank/OTHER", json={"name": "MY_TEST_BANK_RENAMED"})
    assert clash.status_code == 403 and "message" in clash.json()


def test_delete_is_idempotent(hma) -> None:
    assert hma.client.post("/c/banks", json={"name": "MY_TEST_BANK"}).status_code == 201
    r = hma.client.delete("/c/bank/MY_TEST_BANK")
    assert r.status_code == 200 and r.json() == {"message": "Done"}
    again = hma.client.delete("/c/bank/MY_TEST_BANK")
    assert again.status_code == 200  # HMA: deleting a bank that is not there succeeds
    assert hma.client.get("/c/banks").json() == []


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[1, 2]", b'"NAME"', b"{}", b'{"name": 5}'],
)
def test_malformed_bodies_are_400_with_a_message(hma, body: bytes) -> None:
    r = hma.client.post("/c/banks", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert isinstance(r.json()["message"], str)


def test_native_on_off_and_hma_ratio_agree(hma) -> None:
    assert hma.client.post("/c/banks", json={"name": "SHARED", "enabled_ratio": 0.5}).status_code == 201
    assert hma.client.get("/v1/banks/SHARED").json()["enabled"] is True
    assert hma.client.patch("/v1/banks/SHARED", json={"enabled": False}).status_code == 200
    assert hma.client.get("/c/bank/SHARED").json()["matching_enabled_ratio"] == 0.0
    assert hma.client.patch("/v1/banks/SHARED", json={"enabled": True}).status_code == 200
    assert hma.client.get("/c/bank/SHARED").json()["matching_enabled_ratio"] == 1.0
    assert hma.client.put("/c/bank/SHARED", json={"enabled_ratio": 0}).status_code == 200
    assert hma.client.get("/v1/banks/SHARED").json()["enabled"] is False
    # A bank created natively, with a name HMA would not accept, is still reachable by HMA clients.
    assert hma.client.post("/v1/banks", json={"name": "local-bank", "category": "other"}).status_code == 201
    assert hma.client.get("/c/bank/local-bank").json() == {"name": "local-bank", "matching_enabled_ratio": 1.0}
