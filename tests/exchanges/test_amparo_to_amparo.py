"""Amparo-to-Amparo: two real instances (separate data directories and databases, real HTTP).

A publishes a bank to B's partner key; B pulls it (signed pages), matches an upload of a benign
image; A withdraws the hash; after one scheduled sync cycle B stops matching it. Plus the feed's
tombstones for every way an entry leaves a published bank, signatures, keys and permissions."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import LiveServer, free_port, make_settings

from amparo.banks import management as bm
from amparo.banks.exchanges import operations, publishing
from amparo.banks.exchanges.sync import SyncEngine
from amparo.store import exchanges_repo, keys_repo
from amparo.store.banks_repo import NewEntry


def h(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def bridge(shared_data: Path) -> bytes:
    return (shared_data / "pdq" / "bridge-mods" / "aaa-orig.jpg").read_bytes()


def admin_key(service) -> str:  # type: ignore[no-untyped-def]
    with service.db.session() as s:
        return keys_repo.create_key(s, name="admin", role="admin")[1]


@pytest.fixture
def instance_a(service) -> Iterator[tuple[Any, str, str]]:  # type: ignore[no-untyped-def]
    from amparo.api.factory import build_app

    key = admin_key(service)
    with LiveServer(build_app(service), free_port()) as srv:
        yield service, srv.url, key


@pytest.fixture
def instance_b(tmp_path: Path) -> Iterator[tuple[Any, str, str]]:
    from amparo.api.factory import build_app
    from amparo.service import Service

    root = tmp_path / "instance-b"
    settings = make_settings(root, f"sqlite:///{root / 'b.db'}")
    settings.exchange_tick_seconds = 0.3  # the schedule inside `serve`
    root.mkdir()
    svc = Service(settings)
    key = admin_key(svc)
    with LiveServer(build_app(svc), free_port()) as srv:
        yield svc, srv.url, key
    svc.close()


def wait_for(pred, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


def test_two_instances_publish_pull_match_withdraw(instance_a, instance_b, bridge, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    svc_a, url_a, key_a = instance_a
    svc_b, url_b, key_b = instance_b
    assert svc_a.settings.data_dir != svc_b.settings.data_dir

    # A: a bank with the benign image's hashes, published to partner B.
    r = httpx.post(f"{url_a}/v1/banks", json={"name": "shared", "category": "csam"}, headers=h(key_a))
    assert r.status_code == 201, r.text
    r = httpx.post(f"{url_a}/v1/banks/shared/entries/upload", files={"file": ("a.jpg", bridge)}, headers=h(key_a))
    assert r.status_code == 201, r.text
    pdq = next(s["value"] for s in r.json()["signals"] if s["type"] == "pdq")
    with svc_a.db.session() as s:
        bm.create_bank(s, bm.Acting(svc_a.audit, "t", "admin"), name="private", category="csam")
        _, partner_key = operations.add_partner(
            s, bm.Acting(svc_a.audit, "t", "admin"), name="instance-b", banks=["shared"]
        )
    public = httpx.get(f"{url_a}/v1/exchange/key").json()["public_key"]

    # B: the exchange, configured by an admin; the partner key stays in B's environment.
    monkeypatch.setenv("T_PARTNER_KEY_A", partner_key)
    with svc_b.db.session() as s:
        operations.add_exchange(
            s,
            bm.Acting(svc_b.audit, "t", "admin"),
            name="from-a",
            kind="amparo",
            bank="from-a",
            category="csam",
            config={"base_url": url_a, "key_env": "T_PARTNER_KEY_A", "remote_bank": "shared", "public_key": public},
            interval_s=0,
        )
    # Before the sync, B does not block the image.
    r = httpx.post(f"{url_b}/v1/check", files={"file": ("x.jpg", bridge)}, headers=h(key_b))
    assert r.status_code == 200 and r.json()["decision"] != "block"

    r = httpx.post(f"{url_b}/v1/exchanges/from-a/sync", headers=h(key_b), timeout=60)
    assert r.status_code == 200 and r.json()["status"] == "ok" and r.json()["added"] >= 3, r.text

    def b_blocks() -> bool:
        v = httpx.post(f"{url_b}/v1/check", files={"file": ("x.jpg", bridge)}, headers=h(key_b)).json()
        return v["decision"] == "block" and v["labels"] == ["csam_known"]

    assert wait_for(b_blocks)

    # A withdraws the hashes (every entry of the image); B's scheduler runs one cycle, B stops matching.
    entries = httpx.get(f"{url_a}/v1/banks/shared/entries", headers=h(key_a)).json()
    for e in entries["entries"] if isinstance(entries, dict) else entries:
        assert httpx.delete(f"{url_a}/v1/banks/shared/entries/{e['id']}", headers=h(key_a)).status_code == 200
    with svc_b.db.session() as s:
        ex = exchanges_repo.get_exchange(s, name="from-a")
        ex.interval_s = 1  # on the schedule from now on
        runs_before = exchanges_repo.get_state(s, exchange_id=ex.id).runs
    assert wait_for(lambda: not b_blocks())
    r = httpx.post(f"{url_b}/v1/lookup", json={"signals": [{"type": "pdq", "value": pdq}]}, headers=h(key_b))
    assert r.json()["matches"] == []

    def b_state() -> dict[str, Any]:
        return {x["name"]: x for x in httpx.get(f"{url_b}/v1/exchanges", headers=h(key_b)).json()}["from-a"]

    st = b_state()
    assert st["runs"] > runs_before and st["removed"] >= 3 and st["last_error"] is None
    assert wait_for(lambda: b_state()["status"] == "ok")  # a later scheduled run may be under way

    # B tells A it saw the hash; A's admin reads it.
    r = httpx.post(
        f"{url_a}/v1/exchange/banks/shared/feedback",
        json={"signal_type": "pdq", "value": pdq, "kind": "false_positive", "note": "benign test image"},
        headers=h(partner_key),
    )
    assert r.status_code == 201, r.text
    fb = httpx.get(f"{url_a}/v1/exchanges/feedback?bank=shared", headers=h(key_a)).json()
    assert [(x["kind"], x["value"]) for x in fb] == [("false_positive", pdq)]

    # Keys and permissions on A's partner API.
    assert httpx.get(f"{url_a}/v1/exchange/banks/private/changes", headers=h(partner_key)).status_code == 403
    assert httpx.get(f"{url_a}/v1/exchange/banks/nope/changes", headers=h(partner_key)).status_code == 403
    assert (
        httpx.get(f"{url_a}/v1/exchange/banks/shared/changes", headers=h(key_a)).status_code == 401
    )  # an API key is not a partner key
    assert httpx.get(f"{url_a}/v1/exchange/banks/shared/changes").status_code == 401
    assert httpx.get(f"{url_a}/v1/exchange/banks/shared/changes?cursor=-1", headers=h(partner_key)).status_code == 422
    r = httpx.post(
        f"{url_a}/v1/exchange/banks/shared/feedback",
        json={"signal_type": "pdq", "value": "zz", "kind": "seen"},
        headers=h(partner_key),
    )
    assert r.status_code == 400
    r = httpx.post(
        f"{url_a}/v1/exchange/banks/shared/feedback",
        json={"signal_type": "pdq", "value": pdq, "kind": "liked"},
        headers=h(partner_key),
    )
    assert r.status_code == 400
    with svc_a.db.session() as s:
        operations.revoke_partner(s, bm.Acting(svc_a.audit, "t", "admin"), name="instance-b")
    assert httpx.get(f"{url_a}/v1/exchange/banks/shared/changes", headers=h(partner_key)).status_code == 401

    from amparo.audit import names
    from amparo.store import audit_repo

    with svc_a.db.session() as s:
        acts = [r.action for r in audit_repo.list_records(s, limit=500)]
        assert names.PARTNER_PULL in acts and names.PARTNER_FEEDBACK in acts and names.PARTNER_REVOKE in acts
        assert svc_a.audit.verify_chain(s).ok
    with svc_b.db.session() as s:
        assert names.EXCHANGE_SYNC in [r.action for r in audit_repo.list_records(s, limit=500)]


def test_withdrawal_propagation_every_way_out(service, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Whatever takes an entry out of a published bank (a removal as the victim's withdrawal does,
    a disabled entry, the bank deleted), the feed carries a tombstone and a partner drops the hash."""
    who = bm.Acting(service.audit, "t", "admin")
    h1, h2, h3, m1 = "1" * 64, "2" * 64, "3" * 64, "4" * 32
    with service.db.session() as s:
        bm.create_bank(s, who, name="pub", category="ncii")
        ids = bm.add_entries(
            s, who, bank="pub", entries=[NewEntry("pdq", x) for x in (h1, h2, h3)] + [NewEntry("md5", m1)]
        )
        _, pkey = operations.add_partner(s, who, name="p", banks=["pub"])
        partner = exchanges_repo.authenticate_partner(s, key=pkey)
    signer = publishing.exchange_signer(service.settings.keys_dir)

    def pull_all() -> tuple[set[tuple[str, str]], list[dict[str, Any]]]:
        held: set[tuple[str, str]] = set()
        cursor, records = 0, []
        while True:
            with service.db.session() as s:
                page = publishing.build_page(s, signer, partner=partner, bank="pub", cursor=cursor, limit=2)
            publishing.verify_page(page, publishing.public_key_info(signer)["public_key"])
            for r in page["records"]:
                records.append(r)
                (held.add if r["op"] == "add" else held.discard)((r["signal_type"], r["value"]))
            cursor = page["next_cursor"]
            if not page["has_more"]:
                return held, records

    assert pull_all()[0] == {("pdq", h1), ("pdq", h2), ("pdq", h3), ("md5", m1)}
    with service.db.session() as s:
        bm.remove_entries(s, who, bank="pub", entry_ids=[ids[0], ids[3]])  # what /protect's withdrawal calls
        bm.update_entry(s, who, bank="pub", entry_id=ids[1], enabled=False)
    held, records = pull_all()
    assert held == {("pdq", h3)}
    assert {(r["op"], r["value"]) for r in records if r["op"] == "remove"} == {
        ("remove", h1),
        ("remove", m1),
        ("remove", h2),
    }

    with service.db.session() as s:
        bm.update_entry(s, who, bank="pub", entry_id=ids[1], enabled=True)
    assert pull_all()[0] == {("pdq", h2), ("pdq", h3)}

    # A tampered page is refused before anything applies.
    with service.db.session() as s:
        page = publishing.build_page(s, signer, partner=partner, bank="pub", cursor=0, limit=10)
    page["records"][0]["value"] = "f" * 64
    from amparo.errors import BadInput

    with pytest.raises(BadInput, match="signature"):
        publishing.verify_page(page, publishing.public_key_info(signer)["public_key"])

    # Deleting the bank writes tombstones for what it still held (the feed outlives the bank row).
    with service.db.session() as s:
        from amparo.store import banks_repo

        bank_id = banks_repo.get_bank(s, name="pub").id
        bm.delete_bank(s, who, name="pub")
        rows = exchanges_repo.bank_changes_after(s, bank_id=bank_id, seq=0, limit=100)
    assert sorted((r.op, r.value) for r in rows[-2:]) == [("remove", h2), ("remove", h3)]


def test_tampered_partner_is_refused_and_nothing_applies(instance_a, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """B pins a different public key: the pull fails, no entry lands, the cursor stays."""
    svc_a, url_a, _ = instance_a
    who = bm.Acting(svc_a.audit, "t", "admin")
    with svc_a.db.session() as s:
        bm.create_bank(s, who, name="pub", category="ncii")
        bm.add_entries(s, who, bank="pub", entries=[NewEntry("pdq", "5" * 64)])
        _, pkey = operations.add_partner(s, who, name="p", banks=["pub"])
    from amparo.audit.signing import AuditSigner, public_hex

    other = public_hex(AuditSigner.generate().public)
    monkeypatch.setenv("T_PKEY", pkey)
    with svc_a.db.session() as s:
        operations.add_exchange(
            s,
            who,
            name="loop",
            kind="amparo",
            bank="mirror",
            category="ncii",
            interval_s=0,
            config={"base_url": url_a, "key_env": "T_PKEY", "remote_bank": "pub", "public_key": other},
        )
    r = SyncEngine(svc_a).sync("loop")
    assert r.status == "failed" and "pinned" in (r.error or "") and r.added == 0
    with svc_a.db.session() as s:
        ex = exchanges_repo.get_exchange(s, name="loop")
        assert exchanges_repo.get_state(s, exchange_id=ex.id).cursor is None
