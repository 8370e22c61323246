"""NCMEC hash sharing and Meta ThreatExchange against their stand-ins: paging, deletions,
unsupported and corrupt fingerprints, votes, pushes, credentials."""

from __future__ import annotations

import random

import pytest

from amparo.banks.exchanges import operations
from amparo.banks.exchanges.base import Feedback, NotSupported, Record
from amparo.banks.exchanges.sync import SyncEngine
from amparo.store import banks_repo, exchanges_repo
from exchanges.conftest import rand_md5, rand_pdq
from exchanges.partner_standins import NCMEC_REASON, NCMECEntry


def values(service, bank: str) -> dict[tuple[str, str], str | None]:  # type: ignore[no-untyped-def]
    with service.db.session() as s:
        b = banks_repo.get_bank(s, name=bank)
        return {(e.signal_type, e.value): e.external_id for e in banks_repo.list_entries(s, bank_id=b.id, limit=10_000)}


def test_ncmec_pull_delete_and_votes(service, who, ncmec) -> None:  # type: ignore[no-untyped-def]
    url, state = ncmec
    rng = random.Random(3)
    now = 1_767_000_000
    imgs = [(rand_md5(rng), rand_pdq(rng)) for _ in range(6)]
    state.entries = [
        NCMECEntry(f"img{i}", 42, now - 100 + i, fingerprints={"md5": m, "pdq": p, "pdna": "x" * 20})
        for i, (m, p) in enumerate(imgs)
    ]
    vid = rand_md5(rng)
    state.entries.append(
        NCMECEntry("vid0", 43, now - 50, kind="video", fingerprints={"md5": vid, "tmk_pdqf": "y" * 40})
    )
    state.entries.append(NCMECEntry("bad0", 42, now - 40, fingerprints={"pdq": "e" * 32}))  # corrupt PDQ
    with service.db.session() as s:
        operations.add_exchange(
            s,
            who,
            name="ncmec",
            kind="ncmec",
            bank="ncmec",
            category="csam",
            interval_s=0,
            config={
                "username_env": "T_NCMEC_USER",
                "password_env": "T_NCMEC_PASS",
                "base_url": url,
                "start_timestamp": now - 1000,
            },
        )
    r = SyncEngine(service).sync("ncmec")
    assert r.status == "ok", r.error
    assert r.pages == 2  # 8 entries, pages of 4, ordered by id (not time)
    assert (r.added, r.skipped, r.unsupported) == (13, 1, 7)  # 6×(md5,pdq) + video md5; pdna, tmk skipped
    held = values(service, "ncmec")
    assert held[("pdq", imgs[2][1])] == "42:img2" and held[("md5", vid)] == "43:vid0"

    # NCMEC deletes an entry (a deleted entry carries no fingerprints): both of its hashes go.
    state.entries[2] = NCMECEntry("img2", 42, now + 10, deleted=True)
    with service.db.session() as s:
        ex = exchanges_repo.get_exchange(s, name="ncmec")
        st = exchanges_repo.get_state(s, exchange_id=ex.id)
        st.cursor = {"from": now, "to": None, "next": ""}  # as if the first run ended at `now`
    r = SyncEngine(service).sync("ncmec")
    assert r.status == "ok" and r.removed == 2
    held = values(service, "ncmec")
    assert ("pdq", imgs[2][1]) not in held and ("md5", imgs[2][0]) not in held and len(held) == 11

    n = operations.feedback_to(
        service,
        who,
        name="ncmec",
        items=[
            Feedback("pdq", imgs[0][1], "confirmed", external_id="42:img0"),
            Feedback("md5", imgs[1][0], "false_positive", external_id="42:img1"),
            Feedback("pdq", imgs[0][1], "seen", external_id="42:img0"),  # NCMEC has no "seen" vote
        ],
    )
    assert n == 2
    assert state.votes == [
        {"esp": 42, "entry": "img0", "fingerprint": "PDQ", "vote": "affirmative"},
        {"esp": 42, "entry": "img1", "fingerprint": "MD5", "vote": "negative"},
    ]
    assert NCMEC_REASON[0]  # the one reason the stand-in offers was fetched and used
    with pytest.raises(NotSupported):
        operations.submit_to(service, who, name="ncmec", records=[Record("add", "md5", imgs[0][0])])


def test_ncmec_wrong_password(service, who, ncmec, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url, state = ncmec
    state.entries = [NCMECEntry("a", 42, 1_767_000_000, fingerprints={"md5": "a" * 32})]
    monkeypatch.setenv("T_NCMEC_PASS", "not-the-password")
    with service.db.session() as s:
        operations.add_exchange(
            s,
            who,
            name="ncmec",
            kind="ncmec",
            bank="ncmec",
            category="csam",
            interval_s=0,
            config={"username_env": "T_NCMEC_USER", "password_env": "T_NCMEC_PASS", "base_url": url},
        )
    r = SyncEngine(service).sync("ncmec")
    assert r.status == "failed" and "401" in (r.error or "") and "not-the-password" not in (r.error or "")
    assert values(service, "ncmec") == {}


def test_threatexchange_pull_and_push(service, who, threatexchange) -> None:  # type: ignore[no-untyped-def]
    url, state = threatexchange
    rng = random.Random(4)
    pdqs = [rand_pdq(rng) for _ in range(7)]
    state.updates = [
        {"id": str(1000 + i), "indicator": h, "type": "HASH_PDQ", "last_updated": 500 + i, "should_delete": False}
        for i, h in enumerate(pdqs)
    ]
    state.updates.append(
        {"id": "2000", "indicator": "c" * 31, "type": "HASH_PDQ", "last_updated": 510, "should_delete": False}
    )
    state.updates.append(
        {"id": "2001", "indicator": "d" * 32, "type": "HASH_MD5", "last_updated": 511, "should_delete": False}
    )
    with service.db.session() as s:
        operations.add_exchange(
            s,
            who,
            name="te",
            kind="threatexchange",
            bank="te",
            category="csam",
            interval_s=0,
            config={"token_env": "T_TE_TOKEN", "privacy_group": state.privacy_group, "base_url": url, "page_size": 3},
        )
    r = SyncEngine(service).sync("te")
    assert r.status == "ok", r.error
    assert r.pages == 3 and r.added == 8 and r.skipped == 1
    assert ("pdq", pdqs[5]) in values(service, "te")

    state.updates[5] = {**state.updates[5], "should_delete": True, "last_updated": 2**30}
    with service.db.session() as s:
        ex = exchanges_repo.get_exchange(s, name="te")
        exchanges_repo.get_state(s, exchange_id=ex.id).cursor = {"start": 600, "stop": None, "next": None}
    r = SyncEngine(service).sync("te")
    assert r.status == "ok" and r.removed == 1
    assert ("pdq", pdqs[5]) not in values(service, "te")

    n = operations.submit_to(service, who, name="te", records=[Record("add", "pdq", pdqs[0])])
    assert n == 1 and state.uploads[0]["indicator"] == pdqs[0] and state.uploads[0]["type"] == "HASH_PDQ"


def test_threatexchange_bad_token_is_redacted(service, who, threatexchange, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url, state = threatexchange
    monkeypatch.setenv("T_TE_TOKEN", "9999999999|zzzzzzzzzzzzzzzzzzzzzzzz")
    with service.db.session() as s:
        operations.add_exchange(
            s,
            who,
            name="te",
            kind="threatexchange",
            bank="te",
            category="csam",
            interval_s=0,
            config={"token_env": "T_TE_TOKEN", "privacy_group": state.privacy_group, "base_url": url},
        )
    r = SyncEngine(service).sync("te")
    assert r.status == "failed" and "401" in (r.error or "")
    assert "zzzzzzzz" not in (r.error or "")  # the Graph API puts the token in the URL
    with service.db.session() as s:
        _, st = exchanges_repo.list_exchanges(s)[0]
        assert "zzzzzzzz" not in (st.last_error or "")
