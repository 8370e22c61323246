"""Audit trail and evidence vault costs, against plain baselines measured in the same run.

    .venv/bin/python bench/review.py [--pg]

- audit append: AuditTrail.record (hash chain + Ed25519 + head row), one transaction each,
  vs inserting the same row unchained and unsigned (baseline);
- audit verify: records checked per second (hash + signature each);
- vault capture: Vault.capture of a 1.2 MB PNG (hashes incl. PDQ, AES-GCM, fsync, row,
  audit record) vs writing and fsyncing the plain bytes plus inserting a bare row (baseline).
"""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from sqlalchemy import text

from amparo.cases import build_review_components
from amparo.settings import Settings
from amparo.store import schema  # noqa: F401
from amparo.store.database import Database

N_AUDIT = 400
N_VAULT = 40


def image_bytes() -> bytes:
    rng = np.random.default_rng(0)
    arr = (rng.random((720, 960, 3)) * 255).astype(np.uint8)  # noise: benign, incompressible
    out = io.BytesIO()
    Image.fromarray(arr).save(out, "PNG")
    return out.getvalue()


def run(url: str, data_dir: Path) -> list[tuple[str, float, float]]:
    settings = Settings(environment="test", data_dir=data_dir, database_url=url,
                        master_key="11" * 32, session_secret="s" * 32)
    db = Database(url)
    db.migrate()
    review = build_review_components(settings, db)
    rows: list[tuple[str, float, float]] = []
    with db.session() as s:  # the baseline's table: same columns, no chain, no signature
        s.execute(text("CREATE TABLE bench_rows (id INTEGER PRIMARY KEY, created_at VARCHAR(40), "
                       "seq BIGINT, hash VARCHAR(64), key_id VARCHAR(32), signature VARCHAR(128))"))

    t = time.perf_counter()
    for i in range(N_AUDIT):
        with db.session() as s:
            s.execute(text(
                "INSERT INTO bench_rows (id, created_at, seq, hash, key_id, signature) "
                "VALUES (:q, :c, :q, :h, :k, :g)"), {"c": "x", "q": i, "h": "0" * 64, "k": "k", "g": "s"})
    base = (time.perf_counter() - t) / N_AUDIT
    t = time.perf_counter()
    for i in range(N_AUDIT):
        with db.session() as s:
            review.audit.record(s, action="case.decide", subject_type="case", subject_id=i,
                                actor="bench", actor_role="reviewer", details={"kind": "confirm", "i": i})
    rec = (time.perf_counter() - t) / N_AUDIT
    rows.append(("audit append (ms/record)", rec * 1e3, base * 1e3))

    with db.session() as s:
        t = time.perf_counter()
        r = review.audit.verify_chain(s)
        v = time.perf_counter() - t
    assert r.ok
    rows.append(("audit verify (records/s)", r.records / v, float("nan")))

    data = image_bytes()
    plain_dir = data_dir / "plain"
    plain_dir.mkdir()
    t = time.perf_counter()
    for i in range(N_VAULT):
        p = plain_dir / f"{i}.bin"
        with open(p, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        with db.session() as s:
            s.execute(text(
                "INSERT INTO bench_rows (id, created_at, seq, hash, key_id, signature) "
                "VALUES (:q, 'x', :q, 'h', 'k', 's')"), {"q": N_AUDIT + i})
    base = (time.perf_counter() - t) / N_VAULT
    t = time.perf_counter()
    for i in range(N_VAULT):
        with db.session() as s:
            review.vault.capture(s, data=data, item_id=f"b{i}")
    cap = (time.perf_counter() - t) / N_VAULT
    rows.append((f"vault capture {len(data) / 1e6:.1f} MB (ms/item)", cap * 1e3, base * 1e3))
    db.dispose()
    return rows


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    urls = [("sqlite", None)]
    if "--pg" in sys.argv:
        urls.append(("postgresql", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    print("| database | measure | Amparo | baseline | ratio |\n|---|---|---|---|---|")
    for name, url in urls:
        with tempfile.TemporaryDirectory() as d:
            if url is None:
                url = f"sqlite:///{d}/bench.db"
            else:  # a throwaway schema
                import uuid

                import sqlalchemy as sa

                schema_name = "bench_" + uuid.uuid4().hex[:8]
                eng = sa.create_engine(url, isolation_level="AUTOCOMMIT")
                with eng.connect() as c:
                    c.execute(sa.text(f'CREATE SCHEMA "{schema_name}"'))
                url = f"{url}?options=-csearch_path%3D{schema_name}"
            try:
                for what, ours, base in run(url, Path(d)):
                    ratio = "" if base != base else f"{ours / base:.2f}×"
                    b = "" if base != base else f"{base:.2f}"
                    print(f"| {name} | {what} | {ours:.2f} | {b} | {ratio} |")
            finally:
                if name == "postgresql":
                    with eng.connect() as c:
                        c.execute(sa.text(f'DROP SCHEMA "{schema_name}" CASCADE'))


if __name__ == "__main__":
    main()
