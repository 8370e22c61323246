"""The HTTP API over real HTTP (uvicorn on a port), on SQLite and PostgreSQL."""

from __future__ import annotations

import httpx
import pytest

# Generous timeouts: the first lookups in a fresh clone compile the index kernels (numba, then cached).
T = 60.0


def _with_timeout(fn):  # type: ignore[no-untyped-def]
    def call(*a, **kw):  # type: ignore[no-untyped-def]
        kw.setdefault("timeout", T)
        return fn(*a, **kw)

    return call


get, post, patch, delete = (_with_timeout(f) for f in (httpx.get, httpx.post, httpx.patch, httpx.delete))

BAD_PDQ = "zz" * 32


def h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def bridge(shared_data) -> bytes:  # type: ignore[no-untyped-def]
    return (shared_data / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()


def test_health_needs_no_key_everything_else_does(live_api) -> None:
    url, keys = live_api
    assert get(f"{url}/health").json() == {"status": "ok"}
    r = get(f"{url}/ready")
    assert r.status_code == 200 and r.json()["status"] == "ready"
    assert get(f"{url}/v1/banks").status_code == 401
    assert get(f"{url}/v1/banks", headers=h("amp_bad_key")).status_code == 401
    assert get(f"{url}/openapi.json").status_code == 200
    assert get(f"{url}/docs").status_code == 200


def test_roles_are_enforced(service, live_api) -> None:
    url, keys = live_api
    body = {"name": "NCII_1", "category": "ncii"}
    assert post(f"{url}/v1/banks", json=body, headers=h(keys["submitter"])).status_code == 403
    assert post(f"{url}/v1/banks", json=body, headers=h(keys["admin"])).status_code == 201
    assert get(f"{url}/v1/banks", headers=h(keys["auditor"])).status_code == 200
    assert (
        post(
            f"{url}/v1/lookup", json={"signals": [{"type": "md5", "value": "a" * 32}]}, headers=h(keys["auditor"])
        ).status_code
        == 403
    )
    # each denial is in the audit trail: who, which route, which permission
    from amparo.audit import names
    from amparo.store import audit_repo

    with service.db.session() as s:
        denied = audit_repo.list_records(s, action=names.ROLE_DENIED)
        got = sorted((r.actor_role, r.subject_id, r.details["permission"]) for r in denied)
        assert got == [("auditor", "/v1/lookup", "lookup"), ("submitter", "/v1/banks", "banks.write")]
        assert service.audit.verify_chain(s).ok


def test_bank_lifecycle_upload_check_and_event(live_api, bridge) -> None:
    url, keys = live_api
    admin = h(keys["admin"])
    assert post(f"{url}/v1/banks", json={"name": "KNOWN", "category": "csam"}, headers=admin).status_code == 201
    r = post(f"{url}/v1/banks/KNOWN/entries/upload", files={"file": ("a.jpg", bridge)}, headers=admin)
    assert r.status_code == 201, r.text
    pdq = next(s["value"] for s in r.json()["signals"] if s["type"] == "pdq")
    r = post(f"{url}/v1/lookup", json={"signals": [{"type": "pdq", "value": pdq}]}, headers=h(keys["submitter"]))
    assert r.json()["matches"][0]["bank"] == "KNOWN"
    r = post(
        f"{url}/v1/check", files={"file": ("x.jpg", bridge)}, data={"account": "user-7"}, headers=h(keys["submitter"])
    )
    v = r.json()
    assert r.status_code == 200 and v["decision"] == "block" and v["labels"] == ["csam_known"]
    assert v["rule"] == "hash.csam_known" and v["event_id"]
    ev = get(f"{url}/v1/events/{v['event_id']}", headers=h(keys["admin"])).json()
    assert ev["account"] == "user-7" and ev["decision"] == "block"
    seen_by_auditor = get(f"{url}/v1/events/{v['event_id']}", headers=h(keys["auditor"])).json()
    assert seen_by_auditor["account"] is None and seen_by_auditor["decision"] == "block"  # finding 9
    r = patch(f"{url}/v1/banks/KNOWN", json={"enabled": False}, headers=admin)
    assert r.json()["enabled"] is False
    r = post(f"{url}/v1/lookup", json={"signals": [{"type": "pdq", "value": pdq}]}, headers=admin)
    assert r.json()["matches"] == []
    exported = get(f"{url}/v1/banks/KNOWN/export?format=pytx", headers=admin).text
    assert f"pdq {pdq}" in exported
    assert delete(f"{url}/v1/banks/KNOWN", headers=admin).status_code == 200


def test_import_raw_hashes_and_errors(live_api) -> None:
    url, keys = live_api
    admin = h(keys["admin"])
    post(f"{url}/v1/banks", json={"name": "B", "category": "other"}, headers=admin)
    r = post(
        f"{url}/v1/banks/B/import?format=pytx",
        content=f"pdq {'ab' * 32}\nmd5 {'c' * 32}\n",
        headers={**admin, "content-type": "text/plain"},
    )
    assert r.status_code == 200 and r.json()["imported"] == 2
    r = post(f"{url}/v1/banks/B/entries", json={"entries": [{"signal_type": "pdq", "value": BAD_PDQ}]}, headers=admin)
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_hash"
    assert get(f"{url}/v1/banks/NOPE", headers=admin).status_code == 404
    r = post(f"{url}/v1/banks", json={"name": "B", "category": "other"}, headers=admin)
    assert r.status_code == 409
    r = post(f"{url}/v1/banks", json={"name": "C"}, headers=admin)
    assert r.status_code == 422 and r.json()["error"]["code"] == "bad_request"


def test_bad_uploads_get_clear_4xx_and_server_keeps_serving(live_api, bridge) -> None:
    url, keys = live_api
    sub = h(keys["submitter"])
    cases = [b"", b"GIF89a-truncated", b"hello world", bridge[:2000]]
    for data in cases:
        r = post(f"{url}/v1/check", files={"file": ("x", data)}, headers=sub)
        assert 400 <= r.status_code < 500, (data[:10], r.status_code, r.text)
        assert "error" in r.json() and "Traceback" not in r.text
    r = post(f"{url}/v1/check", headers=sub)
    assert r.status_code == 422
    assert get(f"{url}/health").status_code == 200
    r = post(f"{url}/v1/check", files={"file": ("x.jpg", bridge)}, headers=sub)
    assert r.status_code == 200


def test_upload_over_byte_limit(service, live_api) -> None:
    url, keys = live_api
    service.settings.max_upload_bytes = 1000
    r = post(f"{url}/v1/check", files={"file": ("x", b"\xff" * 5000)}, headers=h(keys["submitter"]))
    assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
