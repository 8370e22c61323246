"""A crash at any point of storing evidence leaves no item without its audit record, no row
without its file and no stray file (the process is killed with SIGKILL mid-write)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from amparo.evidence.vault import Vault
from amparo.store.tables_audit import AuditRecordRow
from amparo.store.tables_review import EvidenceItemRow

CHILD = Path(__file__).with_name("crash_child.py")
REPO = Path(__file__).resolve().parents[2]


def start_child(settings: Any, mode: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    return subprocess.Popen(
        [sys.executable, str(CHILD), str(settings.data_dir), settings.resolved_database_url, mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for(proc: subprocess.Popen[str], word: str, timeout: float = 30.0) -> None:
    deadline = time.time() + timeout
    assert proc.stdout is not None
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            raise AssertionError(f"child ended early: {proc.stderr.read() if proc.stderr else ''}")
        if line.startswith(word):
            return
    raise AssertionError(f"child never printed {word}")


def kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)


def check_invariants(db: Any, review: Any, settings: Any) -> int:
    vault = Vault.open(settings, db, review.audit, recover_min_age_seconds=0)
    assert list((vault.root / "tmp").iterdir()) == [], "temp files left after recovery"
    with db.session() as s:
        refs = set(s.scalars(select(EvidenceItemRow.ref)))
        recorded = set(
            s.scalars(
                select(AuditRecordRow.subject_id).where(AuditRecordRow.action == "evidence.capture")
            )
        )
        assert refs == recorded, "an evidence item without its audit record (or the reverse)"
        files = {p.stem for p in (vault.root / "objects").rglob("*.bin")}
        assert files == refs, "a row without its file or a file without its row"
        assert vault.verify_all(s) == []
        assert review.audit.verify_chain(s).ok
    return len(refs)


@pytest.mark.slow
@pytest.mark.parametrize(
    "mode,expect_rows", [("after-temp", 0), ("after-row", 0), ("after-commit", 1)]
)
def test_kill_at_each_step(
    db: Any, review: Any, settings: Any, mode: str, expect_rows: int
) -> None:
    proc = start_child(settings, mode)
    try:
        wait_for(proc, "PAUSED")
        if mode == "after-commit":
            assert len(list((review.vault.root / "tmp").iterdir())) == 1  # committed, not renamed
    finally:
        kill(proc)
    assert check_invariants(db, review, settings) == expect_rows


@pytest.mark.slow
def test_kill_at_random_moments(db: Any, review: Any, settings: Any) -> None:
    rng = random.Random(6)
    for _ in range(1):
        proc = start_child(settings, "loop")
        try:
            wait_for(proc, "READY")
            time.sleep(rng.uniform(0.3, 0.9))
        finally:
            kill(proc)
        check_invariants(db, review, settings)
