"""The DSA transparency report: a year of synthetic decisions, counts that reconcile with the statements,
accuracy figures that match the reviewers' outcomes, CSV parts and XLSX."""

from __future__ import annotations

import csv
import io
import random
import time
import zipfile
from collections import Counter
from datetime import UTC, datetime, timedelta

from amparo.cases.workflow import DecisionInput
from amparo.domain.items import ItemKind
from amparo.reports.sor import checked_statement
from amparo.reports.sor_client import enqueue_statements, record_by_decision_id
from amparo.reports.transparency import transparency_report, wilson
from amparo.reports.transparency_export import csv_parts, xlsx_bytes
from amparo.store import reports_repo
from amparo.store.tables_events import EventRow
from reports.conftest import make_actor
from reports.synth import add_event, year_of_events

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2027, 1, 1, tzinfo=UTC)
N_EVENTS = 6000


def test_wilson_interval_known_values() -> None:
    lo, hi = wilson(81, 263)  # Wilson's worked example: 0.2553–0.3662 (Newcombe 1998 table I, 95 %)
    assert abs(lo - 0.2553) < 5e-4 and abs(hi - 0.3662) < 5e-4
    assert wilson(0, 0) is None
    assert abs(wilson(10, 10)[1] - 1.0) < 1e-12 and wilson(0, 10)[0] == 0.0


def test_a_year_of_decisions_reconciles_in_under_a_minute(service) -> None:
    rng = random.Random(11)
    with service.db.session() as s:
        year_of_events(s, n=N_EVENTS, start=START)
    reviewer = make_actor(service, "rita", "reviewer")
    senior = make_actor(service, "sue", "senior_reviewer")
    # A person reviews 150 EU image events: truth drawn here, so the expected confusion counts are known.
    truth: Counter[tuple[str, str]] = Counter()
    with service.db.session() as s:
        evs = [e for e in s.query(EventRow).filter(EventRow.kind == "image").limit(400) if e.jurisdiction == "eu-es"]
        picked = rng.sample(evs, 150)
        plan = [(e.id, e.decision != "allow", bool(e.verdict.get("matches")), rng.random() < 0.7) for e in picked]
    appeal_ids = []
    for eid, flagged, matched, positive in plan:
        with service.db.session() as s:
            case = service.cases.open_case(
                s, labels=["csam_suspected"], reasons=[], items=[], event_id=eid, title="synthetic", source="policy"
            )
            s.get(type(case), case.id).created_at = s.get(EventRow, eid).created_at
            cid, ver = case.id, case.version
        with service.db.session() as s:
            service.cases.decide(
                s,
                case_id=cid,
                expected_version=ver,
                actor=reviewer,
                decision=DecisionInput("confirm", "csam_suspected") if positive else DecisionInput("not_violating"),
            )
        system = "hash_matching" if matched else "image_classifiers"
        cell = ("tp" if positive else "fp") if flagged else ("fn" if positive else "tn")
        truth[(system, cell)] += 1
        if positive and len(appeal_ids) < 20:
            with service.db.session() as s:
                a = service.cases.file_appeal(s, case_id=cid, statement="not me", account=None, actor=reviewer)
                appeal_ids.append((a.id, a.version))
    for i, (aid, ver) in enumerate(appeal_ids[:15]):
        with service.db.session() as s:
            service.cases.decide_appeal(
                s,
                appeal_id=aid,
                expected_version=ver,
                note="",
                outcome=("upheld", "reversed", "partially_reversed")[i % 3],
                actor=senior,
            )

    t0 = time.perf_counter()
    with service.db.session() as s:
        rep = transparency_report(s, start=START, end=END, provider="Example", service="Example Images")
    parts = csv_parts(rep)
    xlsx = xlsx_bytes(rep)
    elapsed = time.perf_counter() - t0
    assert elapsed < 60, elapsed
    print(f"transparency report over {N_EVENTS} events: {elapsed:.2f} s")

    # The statements: one per restriction, each valid, same count as the report.
    with service.db.session() as s:
        queued = enqueue_statements(s, start=START, end=END)
    with service.db.session() as s:
        rows = reports_repo.list_reports(s, target="dsa_sor", limit=100_000)
        statements = [
            checked_statement(record_by_decision_id(s, r.payload["decision_id"]), key=b"k" * 32) for r in rows[:300]
        ]
        expected = (
            s.query(EventRow)
            .filter(
                EventRow.decision.in_(("block", "refuse", "age_restrict", "label")),
                EventRow.jurisdiction == "eu-es",
                EventRow.created_at >= START,
                EventRow.created_at < END,
            )
            .count()
        )
    assert queued == len(rows) == rep["statements_total"] == expected > 1000
    assert len({st["puid"] for st in statements}) == len(statements)
    illegal, tc = rep["own_initiative_illegal"]["TOTAL"], rep["own_initiative_tc"]["TOTAL"]
    assert illegal["measures"] + tc["measures"] == rep["statements_total"]
    for part in (rep["own_initiative_illegal"], rep["own_initiative_tc"]):
        cats = [v["measures"] for k, v in part.items() if k.startswith("STATEMENT_CATEGORY_") and ":" not in k]
        assert sum(cats) == part["TOTAL"]["measures"]
        assert (
            part["TOTAL"]["automated_detection"] + part["TOTAL"].get("human_detection", 0) == part["TOTAL"]["measures"]
        )
    assert sum(rep["by_detection_method"].values()) == rep["statements_total"]

    # Accuracy, precision, recall per system: exactly the reviewers' outcomes.
    systems = rep["automated_means"]["systems"]
    for system in ("hash_matching", "image_classifiers"):
        got = systems.get(system)
        if got is None:
            assert not any(k[0] == system for k in truth)
            continue
        for cell in ("tp", "fp", "fn", "tn"):
            assert got[cell] == truth[(system, cell)], (system, cell)
        tp, fp = got["tp"], got["fp"]
        if tp + fp:
            assert abs(got["precision"]["value"] - tp / (tp + fp)) < 1e-12
            lo, hi = got["precision"]["ci95"]
            assert lo <= got["precision"]["value"] <= hi
    assert systems["TOTAL"]["tp"] + systems["TOTAL"]["fp"] + systems["TOTAL"]["fn"] + systems["TOTAL"]["tn"] == 150

    c = rep["complaints"]
    assert c["total"] == len(appeal_ids) and c["upheld"] + c["reversed"] + c["partially_reversed"] == 15
    assert c["omitted"] == len(appeal_ids) - 15 and c["median_hours"] is not None

    # CSV parts carry the same numbers; the workbook is a real XLSX.
    part5 = list(csv.reader(io.StringIO(parts["Part_5_own_initiative_illegal.csv"])))
    assert part5[1][3] == "TOTAL" and int(part5[1][5]) == illegal["measures"]
    assert part5[1][2] == "2026-01-01/2026-12-31"
    part8 = list(csv.reader(io.StringIO(parts["Part_8_automated_means.csv"])))
    assert any(r[4].endswith("Precision") and "Wilson 95% CI" in r[7] for r in part8[1:])
    with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
        assert "xl/workbook.xml" in z.namelist()
        assert len([n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]) == len(parts)


def test_empty_period_gives_zeros(service) -> None:
    with service.db.session() as s:
        add_event(s, decision="block", labels=["csam_known"], kind=ItemKind.IMAGE, at=START)
        rep = transparency_report(s, start=END, end=END + timedelta(days=30))
    assert rep["statements_total"] == 0 and rep["own_initiative_illegal"] == {}
    assert "TOTAL" in csv_parts(rep)["Part_5_own_initiative_illegal.csv"]
