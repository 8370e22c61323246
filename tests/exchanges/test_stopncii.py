"""StopNCII against the stand-in: cursor paging, withdrawals, bad records, resume after a crash,
submissions and feedback, bad credentials, the lease."""

from __future__ import annotations

import random
from typing import Any

import pytest

from amparo.banks.exchanges import operations
from amparo.banks.exchanges.base import Feedback, Record
from amparo.banks.exchanges.sync import SyncEngine
from amparo.domain.signals import Signal
from amparo.errors import Conflict
from amparo.store import banks_repo, exchanges_repo
from exchanges.conftest import STOPNCII_CONFIG, rand_md5, rand_pdq


def rec(ts: int, stype: str, value: str, status: str = "Active") -> dict[str, Any]:
    return {
        "lastModtimestamp": ts,
        "signalType": stype,
        "hashValue": value,
        "hashStatus": status,
        "caseNumbers": {"case-1": status},
        "CSPFeedbacks": [],
    }


def setup_exchange(service, who, url: str, **extra: Any) -> None:  # type: ignore[no-untyped-def]
    with service.db.session() as s:
        operations.add_exchange(
            s,
            who,
            name="stopncii",
            kind="stopncii",
            bank="stopncii",
            category="ncii",
            config={**STOPNCII_CONFIG, "base_url": url, **extra},
            interval_s=0,
        )


def bank_values(service) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    with service.db.session() as s:
        b = banks_repo.get_bank(s, name="stopncii")
        return {(e.signal_type, e.value) for e in banks_repo.list_entries(s, bank_id=b.id, limit=10_000)}


def matches(service, pdq: str) -> bool:  # type: ignore[no-untyped-def]
    service.matcher.refresh()
    return bool(service.matcher.lookup([Signal("pdq", pdq, 100)]).matches)


def test_paging_bad_records_and_withdrawals(service, who, stopncii) -> None:  # type: ignore[no-untyped-def]
    url, state = stopncii
    rng = random.Random(1)
    pdqs = [rand_pdq(rng) for _ in range(20)]
    md5s = [rand_md5(rng) for _ in range(3)]
    state.records = [rec(100 + i, "ImagePDQ", h) for i, h in enumerate(pdqs)]
    state.records += [rec(130 + i, "VideoMD5", h) for i, h in enumerate(md5s)]
    state.records.append(rec(140, "VideoTMK", "ab" * 100))  # not held by Amparo: skipped explicitly
    state.records.append(rec(141, "ImagePDQ", "f" * 32))  # the corrupt 32-character PDQ of TE #1609
    state.records.append({"lastModtimestamp": 142, "signalType": "ImagePDQ"})  # no hashValue/status
    setup_exchange(service, who, url)

    r = SyncEngine(service).sync("stopncii")
    assert r.status == "ok", r.error
    assert r.pages == 3  # 26 records, pages of 10
    assert (r.added, r.skipped, r.unsupported) == (23, 2, 1)
    assert bank_values(service) == {("pdq", h) for h in pdqs} | {("md5", h) for h in md5s}
    assert matches(service, pdqs[3])

    with service.db.session() as s:
        ex, st = exchanges_repo.list_exchanges(s)[0]
        assert st.status == "ok" and st.skipped == 2 and st.added == 23
        assert st.cursor == {"start": 143, "token": None}
        reasons = " ".join(x["reason"] for x in st.skipped_samples)
        assert "PDQ" in reasons and "missing" in reasons

    # Withdrawn and Deleted arrive as newer records; pytx's mapping keeps them (it compares hashValue).
    state.records += [rec(200, "ImagePDQ", pdqs[3], "Withdrawn"), rec(201, "VideoMD5", md5s[0], "Deleted")]
    r = SyncEngine(service).sync("stopncii")
    assert r.status == "ok" and r.fetched == 2 and r.removed == 2
    assert ("pdq", pdqs[3]) not in bank_values(service) and ("md5", md5s[0]) not in bank_values(service)
    assert not matches(service, pdqs[3])
    assert matches(service, pdqs[4])


def test_pytx_mapping_keeps_withdrawn_hashes() -> None:
    """The upstream defect our adapter fixes, shown on pytx itself."""
    from threatexchange.exchanges.clients.stopncii import api
    from threatexchange.exchanges.impl.stop_ncii_api import _get_delta_mapping

    withdrawn = api.StopNCIIHashRecord(
        1, api.StopNCIISignalType.ImagePDQ, "0" * 64, api.StopNCIICaseStatus.Withdrawn, {}, []
    )
    _, metadata = _get_delta_mapping(withdrawn)
    assert metadata is not None  # pytx would keep (upsert) a withdrawn hash

    from amparo.banks.exchanges.stopncii import parse_record

    ours = parse_record(rec(1, "ImagePDQ", "0" * 64, "Withdrawn"))
    assert isinstance(ours, Record) and ours.op == "remove"


def test_resume_after_a_crash_mid_sync(service, who, stopncii) -> None:  # type: ignore[no-untyped-def]
    url, state = stopncii
    rng = random.Random(2)
    pdqs = [rand_pdq(rng) for _ in range(35)]
    state.records = [rec(100 + i, "ImagePDQ", h) for i, h in enumerate(pdqs)]
    state.truncate_page = 3  # the third page arrives cut in half
    setup_exchange(service, who, url)

    r = SyncEngine(service).sync("stopncii")
    assert r.status == "failed" and r.pages == 2 and r.added == 20
    with service.db.session() as s:
        _, st = exchanges_repo.list_exchanges(s)[0]
        assert st.status == "failed" and st.last_error and "sub-key" not in st.last_error
        assert st.cursor["start"] == 10 and st.cursor["token"]  # inside the set, after page 2
        assert st.lease_owner is None
    assert len(bank_values(service)) == 20

    calls_before = state.calls
    r = SyncEngine(service).sync("stopncii")
    assert r.status == "ok" and r.pages == 2 and r.added == 15  # pages 3 and 4 only
    assert state.calls - calls_before == 2
    assert bank_values(service) == {("pdq", h) for h in pdqs}
    with service.db.session() as s:
        _, st = exchanges_repo.list_exchanges(s)[0]
        assert st.added == 35 and st.status == "ok" and st.last_error is None


def test_bad_credentials_fail_without_leaking(service, who, stopncii, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    url, _ = stopncii
    setup_exchange(service, who, url)
    monkeypatch.setenv("T_STOPNCII_FETCH", "wrong-function-key")
    r = SyncEngine(service).sync("stopncii")
    assert r.status == "failed" and "401" in (r.error or "")
    assert "wrong-function-key" not in (r.error or "")
    with service.db.session() as s:
        ex = exchanges_repo.get_exchange(s, name="stopncii")
        assert "wrong-function-key" not in str(ex.config)


def test_submit_hashes_and_feedback(service, who, stopncii) -> None:  # type: ignore[no-untyped-def]
    url, state = stopncii
    setup_exchange(service, who, url)
    pdq, md5 = "1" * 64, "2" * 32
    n = operations.submit_to(
        service, who, name="stopncii", records=[Record("add", "pdq", pdq), Record("add", "md5", md5)]
    )
    assert n == 2
    assert [(x["signalType"], x["hashValue"]) for x in state.submitted] == [("ImagePDQ", pdq), ("VideoMD5", md5)]

    n = operations.feedback_to(
        service,
        who,
        name="stopncii",
        items=[Feedback("pdq", pdq, "false_positive"), Feedback("md5", md5, "confirmed")],
    )
    assert n == 2
    assert {(f["hashValue"], f["feedbackValue"]) for f in state.feedback} == {(pdq, "NotBlocked"), (md5, "Blocked")}

    # pytx's own submit_hashes sends str(enum) as the signal type, which the service refuses.
    import requests
    from threatexchange.exchanges.clients.stopncii.api import StopNCIIAPI, StopNCIIEndpoint, StopNCIISignalType

    raw = StopNCIIAPI("sub-key", "fetch-key", {StopNCIIEndpoint.SubmitHashes: "submit-key"}, base_url_override=url)
    with pytest.raises(requests.HTTPError, match="400"):
        raw.submit_hash(StopNCIISignalType.ImagePDQ, pdq)

    from amparo.audit import names
    from amparo.store import audit_repo

    with service.db.session() as s:
        acts = {r.action for r in audit_repo.list_records(s, limit=100)}
    assert {names.EXCHANGE_ADD, names.EXCHANGE_SUBMIT, names.EXCHANGE_FEEDBACK_SENT} <= acts


def test_one_replica_at_a_time(service, who, stopncii) -> None:  # type: ignore[no-untyped-def]
    url, _ = stopncii
    setup_exchange(service, who, url)
    with service.db.session() as s:
        ex = exchanges_repo.get_exchange(s, name="stopncii")
        assert exchanges_repo.acquire_lease(s, exchange_id=ex.id, owner="other-replica", seconds=60)
    with pytest.raises(Conflict):
        SyncEngine(service, owner="this-replica").sync("stopncii")
    with service.db.session() as s:
        exchanges_repo.release_lease(s, exchange_id=ex.id, owner="other-replica")
    assert SyncEngine(service, owner="this-replica").sync("stopncii").status == "ok"
