"""The reports room at scale: a DSA transparency report (figures + CSV parts + XLSX) and the statements of
reasons for a year of synthetic decisions, against the cheapest possible baseline in the same run (one SQL
GROUP BY counting the same restrictions). Synthetic verdicts only: no content is involved.

Usage: OMP_NUM_THREADS=1 .venv/bin/python bench/bench_reports.py [--events 10000 50000] [--pg]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, text

from amparo.reports.record import moderation_records
from amparo.reports.sor import checked_statement
from amparo.reports.transparency import transparency_report
from amparo.reports.transparency_export import csv_parts, xlsx_bytes
from amparo.service import Service
from amparo.settings import Settings
from amparo.store.tables_events import EventRow

START, END = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
LABELS = ("csam_known", "csam_request", "ncii_known", "sexual_deepfake", "nudify_request", "adult_explicit",
          "minor_present", "ai_generated")  # fmt: skip
DECISIONS = ("block", "refuse", "age_restrict", "label", "allow")


def fill(svc: Service, n: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    rows = []
    for _ in range(n):
        matched = rng.random() < 0.2
        stage = rng.choice(("nudity", "prompt", "faces_age"))
        rows.append(
            EventRow(
                created_at=START + timedelta(seconds=rng.randrange(365 * 86400)),
                item_id=uuid.uuid4().hex,
                kind=rng.choice(("image", "prompt", "generated_image")),
                account=f"acct-{rng.randrange(5000)}",
                surface=rng.choice(("upload", "generation", "edit")),
                jurisdiction=rng.choice(("eu-es", "eu-es", "us")),
                decision=rng.choice(DECISIONS),
                labels=[rng.choice(LABELS)],
                rule="bench",
                automated=True,
                verdict={"matches": [{"bank": "b"}] if matched else [],
                         "classifications": [] if matched else [{"stage": stage}]},  # fmt: skip
            )
        )
    with svc.db.session() as s:
        s.add_all(rows)


def measure(url: str, n: int, data_dir: Path) -> list[str]:
    svc = Service(Settings(environment="test", data_dir=data_dir, database_url=url, detectors="none",
                           master_key="11" * 32, session_secret="s" * 32), load_detectors=False)  # fmt: skip
    fill(svc, n)
    with svc.db.session() as s:
        t0 = time.perf_counter()
        base = s.execute(
            select(func.count()).where(
                EventRow.created_at >= START, EventRow.created_at < END, EventRow.jurisdiction.like("eu%"),
                EventRow.decision.in_(("block", "refuse", "age_restrict", "label")),
            )
        ).scalar_one()  # fmt: skip
        t_base = time.perf_counter() - t0
        t0 = time.perf_counter()
        rep = transparency_report(s, start=START, end=END)
        t_rep = time.perf_counter() - t0
        t0 = time.perf_counter()
        csv_parts(rep)
        xlsx_bytes(rep)
        t_exp = time.perf_counter() - t0
        t0 = time.perf_counter()
        recs = moderation_records(s, start=START, end=END)
        sts = [checked_statement(r, key=b"k" * 32) for r in recs]
        t_sor = time.perf_counter() - t0
    assert rep["statements_total"] == base == len(sts)
    svc.close()
    db = url.split(":")[0].split("+")[0]
    return [
        f"| {db} | {n} | {base} | {t_base * 1000:.1f} ms | {t_rep:.2f} s | {t_exp:.2f} s | "
        f"{t_sor:.2f} s ({len(sts) / t_sor:.0f}/s) |"
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, nargs="+", default=[10_000, 50_000])
    ap.add_argument("--pg", action="store_true", help="also on postgresql+psycopg://postgres@127.0.0.1/test")
    args = ap.parse_args()
    print("| database | events | restrictions | baseline GROUP BY | report | CSV+XLSX | statements built + validated |")
    print("|---|---|---|---|---|---|---|")
    for n in args.events:
        tmp = Path(tempfile.mkdtemp(prefix="amparo-bench-reports-"))
        for line in measure(f"sqlite:///{tmp / 'a.db'}", n, tmp):
            print(line, flush=True)
        if args.pg:
            import sqlalchemy as sa

            schema = "bench_" + uuid.uuid4().hex[:8]
            eng = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test", isolation_level="AUTOCOMMIT")
            with eng.connect() as c:
                c.execute(text(f'CREATE SCHEMA "{schema}"'))
            try:
                url = f"postgresql+psycopg://postgres@127.0.0.1:5432/test?options=-csearch_path%3D{schema}"
                for line in measure(url, n, tmp / "pg"):
                    print(line, flush=True)
            finally:
                with eng.connect() as c:
                    c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


if __name__ == "__main__":
    main()
