"""/protect over real HTTP (uvicorn on a port), on SQLite and PostgreSQL: submit → status →
withdraw, a matched upload stops matching after withdrawal, abuse controls refuse with 4xx and
change nothing, and the audit trail records submissions and withdrawals without secrets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from amparo.audit import names
from amparo.protect import challenge
from amparo.store import audit_repo, banks_repo

T = 60.0
BITS = 6
# Tests whose subject does not depend on the database run on SQLite only (the suite's time budget).
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def protect_api(service: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, dict[str, str]]]:
    monkeypatch.setenv("AMPARO_PROTECT_POW_BITS", str(BITS))
    monkeypatch.setenv("AMPARO_PROTECT_SUBMISSIONS_PER_WINDOW", "6")
    monkeypatch.setenv("AMPARO_PROTECT_LOOKUPS_PER_WINDOW", "12")
    from conftest import LiveServer, free_port

    from amparo.api.factory import build_app
    from amparo.store import keys_repo

    keys = {}
    with service.db.session() as s:
        for role in ("admin", "submitter"):
            _, keys[role] = keys_repo.create_key(s, name=f"test-{role}", role=role)
    with LiveServer(build_app(service), free_port()) as srv:
        yield srv.url, keys


def _solved(url: str) -> dict[str, Any]:
    c = httpx.post(f"{url}/protect/api/challenge", json={}, timeout=T).json()
    assert c["bits"] == BITS
    return {"challenge": c["challenge"], "counter": challenge.solve(c["challenge"], c["bits"])}


def _bridge_hashes(service: Any, data: bytes) -> list[dict[str, Any]]:
    """The hashes the page's worker computes for this file (its parity with these is the browser test's)."""
    sigs = {s.type: s for s in service.pipeline.hash_of_record(service.pipeline.decode(data), data)}
    return [
        {"type": "pdq", "value": sigs["pdq"].value, "quality": sigs["pdq"].quality, "kind": "image"},
        {"type": "md5", "value": sigs["md5"].value, "kind": "image"},
    ]


def _submit(url: str, hashes: list[dict[str, Any]], *, under_18: bool = False, **extra: Any) -> httpx.Response:
    body = {**_solved(url), "under_18": under_18, "confirm": True, "language": "es", "hashes": hashes, **extra}
    return httpx.post(f"{url}/protect/api/submit", json=body, timeout=T)


def _check(url: str, key: str, data: bytes) -> dict[str, Any]:
    r = httpx.post(
        f"{url}/v1/check",
        files={"file": ("x.jpg", data)},
        data={"account": "u-1"},
        headers={"Authorization": f"Bearer {key}"},
        timeout=T,
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def _wait_for(fn: Any, want: bool) -> None:
    import time

    deadline = time.time() + 10
    while fn() != want:
        assert time.time() < deadline, "the index did not catch up"
        time.sleep(0.1)


def _state(service: Any) -> tuple[int, int, int]:
    from sqlalchemy import func, select

    from amparo.store.tables import BankEntryRow
    from amparo.store.tables_protect import ProtectCaseRow

    with service.db.session() as s:
        return (
            int(s.scalar(select(func.count()).select_from(BankEntryRow)) or 0),
            int(s.scalar(select(func.count()).select_from(ProtectCaseRow)) or 0),
            len(audit_repo.list_records(s, action=names.PROTECT_SUBMIT)),
        )


def test_submit_status_withdraw_and_matching_stops(service: Any, protect_api: Any, shared_data: Any) -> None:
    url, keys = protect_api
    data = (shared_data / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()
    # a platform upload of the image is allowed before anyone submits its hashes
    assert not _check(url, keys["submitter"], data)["matches"]

    r = _submit(url, _bridge_hashes(service, data))
    assert r.status_code == 201, r.text
    receipt = r.json()
    assert receipt["category"] == "ncii" and receipt["banked"] == 2
    number, secret = receipt["case_number"], receipt["secret"]

    with service.db.session() as s:
        bank = banks_repo.get_bank(s, name="self-submitted-ncii")
        assert (bank.category, bank.source) == ("ncii", "self-submitted")
        entries = banks_repo.list_entries(s, bank_id=bank.id)
        assert {e.signal_type for e in entries} == {"pdq", "md5"}
        assert all(e.entry_metadata.get("self_submitted") is True for e in entries)

    def blocked() -> bool:
        v = _check(url, keys["submitter"], data)
        return bool(v["matches"]) and v["decision"] == "block"

    _wait_for(blocked, True)
    v = _check(url, keys["submitter"], data)
    assert v["labels"] == ["ncii_known"] and v["rule"] == "hash.ncii_known"

    # status: typed loosely (lower case, spaces) still finds the case; a wrong secret finds nothing
    st = httpx.post(
        f"{url}/protect/api/status",
        json={"case_number": number.lower().replace("-", " "), "secret": secret.lower()},
        timeout=T,
    )
    assert st.status_code == 200 and st.json()["status"] == "active" and st.json()["banked"] == 2
    wrong = httpx.post(f"{url}/protect/api/status", json={"case_number": number, "secret": "X" * 29}, timeout=T)
    assert wrong.status_code == 404
    assert (
        httpx.post(f"{url}/protect/api/withdraw", json={"case_number": number, "secret": "nope"}, timeout=T).status_code
        == 404
    )
    assert _state(service)[0] == 2  # a refused withdrawal removed nothing

    w = httpx.post(f"{url}/protect/api/withdraw", json={"case_number": number, "secret": secret}, timeout=T)
    assert w.status_code == 200 and w.json()["status"] == "withdrawn" and w.json()["banked"] == 0
    _wait_for(blocked, False)
    assert not _check(url, keys["submitter"], data)["matches"]
    # the removal went through bank management: index feed and audit trail see it
    with service.db.session() as s:
        assert banks_repo.list_entries(s, bank_id=bank.id) == []
        removed = audit_repo.list_records(s, action=names.BANK_ENTRY_REMOVE)
        assert removed and removed[0].actor == f"protect:{number}"
        sub = audit_repo.list_records(s, action=names.PROTECT_SUBMIT)
        wd = audit_repo.list_records(s, action=names.PROTECT_WITHDRAW)
        assert len(sub) == 1 and len(wd) == 1 and wd[0].details["removed"] == 2
        trail = json.dumps([r.details for r in audit_repo.list_records(s, limit=1000)])
        assert secret not in trail and secret.replace("-", "") not in trail
        assert service.audit.verify_chain(s).ok
    # withdrawing again is harmless; status says withdrawn
    again = httpx.post(f"{url}/protect/api/withdraw", json={"case_number": number, "secret": secret}, timeout=T)
    assert again.status_code == 200 and again.json()["status"] == "withdrawn"


@sqlite_only
def test_under_18_goes_to_a_csam_bank_but_is_never_csam_known(service: Any, protect_api: Any, shared_data: Any) -> None:
    url, keys = protect_api
    data = (shared_data / "pdq" / "bridge-mods" / "sharpen-a-lot.jpg").read_bytes()
    r = _submit(url, _bridge_hashes(service, data), under_18=True)
    assert r.status_code == 201 and r.json()["category"] == "csam"
    with service.db.session() as s:
        bank = banks_repo.get_bank(s, name="self-submitted-minors")
        assert (bank.category, bank.source) == ("csam", "self-submitted")

    _wait_for(lambda: bool(_check(url, keys["submitter"], data)["matches"]), True)
    v = _check(url, keys["submitter"], data)
    assert v["decision"] == "block"
    assert v["labels"] == ["csam_suspected"] and v["rule"] == "hash.csam_self_submitted"
    assert v["matches"][0]["self_submitted"] is True
    assert "report" not in json.dumps(v.get("actions", []))


@sqlite_only
def test_two_people_same_hash_one_withdraws(service: Any, protect_api: Any, shared_data: Any) -> None:
    url, _ = protect_api
    data = (shared_data / "pdq" / "bridge-mods" / "blur-a-lot.jpg").read_bytes()
    a = _submit(url, _bridge_hashes(service, data)).json()
    b = _submit(url, _bridge_hashes(service, data)).json()
    w = httpx.post(
        f"{url}/protect/api/withdraw", json={"case_number": a["case_number"], "secret": a["secret"]}, timeout=T
    )
    assert w.status_code == 200
    assert _state(service)[0] == 2  # still held by the second person's case
    httpx.post(f"{url}/protect/api/withdraw", json={"case_number": b["case_number"], "secret": b["secret"]}, timeout=T)
    assert _state(service)[0] == 0


def test_abuse_controls_refuse_with_4xx_and_change_nothing(service: Any, protect_api: Any, shared_data: Any) -> None:
    url, _ = protect_api
    hashes = _bridge_hashes(service, (shared_data / "pdq" / "bridge-mods" / "blur-a-little.jpg").read_bytes())
    before = _state(service)
    # proof of work: missing, wrong, forged, too easy, spent
    c = httpx.post(f"{url}/protect/api/challenge", json={}, timeout=T).json()
    tok = c["challenge"]
    bad_counter = next(
        n
        for n in range(10_000)
        if challenge.leading_zero_bits(__import__("hashlib").sha256(f"{tok}:{n}".encode()).digest()) < BITS
    )
    body = {"under_18": False, "confirm": True, "hashes": hashes}
    for sol in (
        {"challenge": tok, "counter": bad_counter},
        {"challenge": tok[:-4] + "0000", "counter": 0},
        {"challenge": "1.1.6.abc.def", "counter": 0},
    ):
        r = httpx.post(f"{url}/protect/api/submit", json={**body, **sol}, timeout=T)
        assert r.status_code == 400 and r.json()["error"]["code"] == "proof_of_work_failed", r.text
    r = httpx.post(f"{url}/protect/api/submit", json=body, timeout=T)
    assert r.status_code == 422  # no challenge at all
    # malformed hashes, unknown types, extra fields (e.g. a file), no confirmation
    for bad in (
        {"hashes": [{"type": "pdq", "value": "zz" * 32, "quality": 90, "kind": "image"}]},
        {"hashes": [{"type": "sha256", "value": "a" * 64, "kind": "image"}]},
        {"hashes": hashes, "file": "aGVsbG8="},
        {"hashes": hashes, "confirm": False},
        {"hashes": []},
    ):
        r = httpx.post(f"{url}/protect/api/submit", json={**body, **_solved(url), **bad}, timeout=T)
        assert 400 <= r.status_code < 500, (bad, r.text)
    # a body that could carry an image is refused before it is read
    big = httpx.post(
        f"{url}/protect/api/submit",
        content=b'{"x": "' + b"A" * 20_000 + b'"}',
        headers={"Content-Type": "application/json"},
        timeout=T,
    )
    assert big.status_code == 413
    assert _state(service) == before

    # a spent challenge is refused
    sol = _solved(url)
    assert httpx.post(f"{url}/protect/api/submit", json={**body, **sol}, timeout=T).status_code == 201
    r = httpx.post(f"{url}/protect/api/submit", json={**body, **sol}, timeout=T)
    assert r.status_code == 400 and r.json()["error"]["code"] == "challenge_spent"
    # the rate limit (6 per window here) counts every attempt that reached the route, refused or
    # not: 3 bad proofs, the bad PDQ, the success and the spent challenge (the 422s never got there)
    after_one = _state(service)
    r = _submit(url, hashes)
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    assert r.json()["error"]["code"] == "rate_limited"
    assert _state(service) == after_one
    # status lookups are limited too (guessing secrets)
    codes = [
        httpx.post(
            f"{url}/protect/api/status", json={"case_number": "P-0000-0000", "secret": "x"}, timeout=T
        ).status_code
        for _ in range(14)
    ]
    assert codes[:12] == [404] * 12 and codes[-1] == 429


def test_one_solved_challenge_pays_for_one_case_even_when_raced(
    service: Any, protect_api: Any, shared_data: Any
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    url, _ = protect_api
    hashes = _bridge_hashes(service, (shared_data / "pdq" / "bridge-mods" / "shrink-a-little.jpg").read_bytes())
    body = {**_solved(url), "under_18": False, "confirm": True, "hashes": hashes}
    with ThreadPoolExecutor(4) as pool:
        codes = sorted(
            pool.map(lambda _: httpx.post(f"{url}/protect/api/submit", json=body, timeout=T).status_code, range(4))
        )
    assert codes == [201, 400, 400, 400]
    assert _state(service)[1] == 1


@sqlite_only
def test_pages_headers_and_languages(protect_api: Any) -> None:
    url, _ = protect_api
    r = httpx.get(f"{url}/protect", headers={"Accept-Language": "eu-ES,eu;q=0.9,en;q=0.5"}, timeout=T)
    assert r.status_code == 200 and '<html lang="eu">' in r.text
    csp = r.headers["content-security-policy"]
    assert f"connect-src {url}/protect/api/" in csp and "form-action 'none'" in csp
    assert "<form" not in r.text  # nothing on the page can post a file
    for lang in ("es", "ca", "gl", "en"):
        assert f'<html lang="{lang}">' in httpx.get(f"{url}/protect?lang={lang}", timeout=T).text
    w = httpx.get(f"{url}/protect/static/protect-worker.js", timeout=T)
    assert w.status_code == 200 and w.headers["content-security-policy"] == "default-src 'none'"
    assert httpx.get(f"{url}/protect/static/app.css", timeout=T).status_code == 404
    # the case page works without JavaScript: a form post answers with the status
    page = httpx.post(
        f"{url}/protect/case", data={"case_number": "P-0000-0000", "secret": "x", "lang": "ca"}, timeout=T
    )
    assert page.status_code == 404 and "No hi ha cap cas" in page.text


def test_every_language_has_every_text() -> None:
    from amparo.ui.protect_text import LANGUAGES, TEXT, pick_language

    keys = set(TEXT["en"])
    for lang in LANGUAGES:
        assert set(TEXT[lang]) == keys, lang
        assert all(v.strip() for v in TEXT[lang].values())
    assert pick_language(None, "ca-ES,ca;q=0.9,es;q=0.8") == "ca"
    assert pick_language(None, "fr-FR, en;q=0.3, gl;q=0.6") == "gl"
    assert pick_language("EU", "en") == "eu"
    assert pick_language(None, None) == "es"
    assert pick_language("xx", "de") == "es"


def test_the_page_can_be_switched_off(sqlite_service: Any) -> None:
    from amparo.protect.config import ProtectSettings
    from amparo.ui.protect_pages import build_protect_router

    assert build_protect_router(sqlite_service, config=ProtectSettings(enabled=False)).routes == []
    on = {getattr(r, "path", "") for r in build_protect_router(sqlite_service, config=ProtectSettings()).routes}
    assert {"/protect", "/protect/api/submit", "/protect/api/withdraw"} <= on
