"""`amparo scan-dataset` on a real local Ray (one session for the module, 2 CPUs, no dashboard):
generated benign shards with planted bank matches; the removal list is checked exactly."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pdqhash
import pytest
import ray  # the [dataset] extra: in dev, so in CI
from dataset_samples import url_of, write_folder, write_image_parquet, write_tar_shards
from PIL import Image

from amparo.banks import management
from amparo.banks.management import Acting
from amparo.batch.dataset_run import RunConfig, run_scan
from amparo.batch.dataset_scan import COLUMNS, ScanOptions, read_rows
from amparo.errors import Conflict
from amparo.signals.hashes.url import url_sha256
from amparo.store.banks_repo import NewEntry

pytestmark = pytest.mark.slow


def ref_pdq(data: bytes) -> str:
    """The reference hash, computed here independently: pdqhash on the full RGB decode."""
    bits, _ = pdqhash.compute(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    return np.packbits(bits.astype(np.uint8)).tobytes().hex()


def hamming(a: str, b: str) -> int:
    return int(bin(int(a, 16) ^ int(b, 16)).count("1"))


def reencode(data: bytes, quality: int) -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(data)).convert("RGB").save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


class World:
    """One data dir and database for the module, banks planted on samples of the generated data."""

    def __init__(self, root: Path) -> None:
        from amparo.service import Service
        from amparo.settings import Settings

        self.root = root
        self.tars = write_tar_shards(root / "laion", shards=3, per_shard=8, seed0=0)
        self.parquet = write_image_parquet(root / "laion" / "extra" / "images.parquet", n=6, seed0=1000)
        self.folder = write_folder(root / "photos", n=7, seed0=2000)
        keys = sorted(self.tars)
        self.k_pdq, self.k_near, self.k_md5, self.k_url, self.k_safe, self.k_other = (
            keys[1],
            keys[10],
            keys[17],
            keys[20],
            keys[5],
            "p0003",
        )
        self.near_copy = reencode(self.tars[self.k_near], 85)  # the banked copy: a lossy re-encode
        self.svc = Service(Settings())
        self.who = Acting(self.svc.audit, "test", "admin")
        with self.svc.db.session() as s:
            management.create_bank(s, self.who, name="KNOWN", category="csam")
            management.create_bank(s, self.who, name="INTIMATE", category="ncii")
            management.create_bank(s, self.who, name="SAFE", category="other", negative=True)
            management.add_entries(
                s,
                self.who,
                bank="KNOWN",
                entries=[
                    NewEntry("pdq", ref_pdq(self.tars[self.k_pdq])),
                    NewEntry("pdq", ref_pdq(self.near_copy)),
                    NewEntry("md5", hashlib.md5(self.tars[self.k_md5]).hexdigest()),
                    NewEntry("url_sha256", url_sha256(url_of(self.k_url))),
                    NewEntry("pdq", ref_pdq(self.tars[self.k_safe])),
                ],
            )
            management.add_entries(
                s,
                self.who,
                bank="INTIMATE",
                entries=[
                    NewEntry("sha256", hashlib.sha256(self.parquet[self.k_other]).hexdigest()),
                    NewEntry("pdq", ref_pdq(self.folder["sub1/img001.jpg"])),
                ],
            )
            # The same image in a safe bank cancels the KNOWN match: it must not be on the list.
            management.add_entries(s, self.who, bank="SAFE", entries=[NewEntry("pdq", ref_pdq(self.tars[self.k_safe]))])
        self.svc.matcher.refresh()

    def expected_dataset_rows(self) -> list[tuple[str, str, str, int, str]]:
        near = hamming(ref_pdq(self.tars[self.k_near]), ref_pdq(self.near_copy))
        assert 0 < near <= 31, near  # the planted near-duplicate must really be one
        rows = [
            (self.k_pdq, "pdq", ref_pdq(self.tars[self.k_pdq]), 0, "KNOWN"),
            (self.k_near, "pdq", ref_pdq(self.tars[self.k_near]), near, "KNOWN"),
            (self.k_md5, "md5", hashlib.md5(self.tars[self.k_md5]).hexdigest(), 0, "KNOWN"),
            (self.k_url, "url_sha256", url_sha256(url_of(self.k_url)), 0, "KNOWN"),
            (self.k_other, "sha256", hashlib.sha256(self.parquet[self.k_other]).hexdigest(), 0, "INTIMATE"),
        ]
        return sorted(rows)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("scan_dataset")
    env = {
        "AMPARO_ENVIRONMENT": "test",
        "AMPARO_DATA_DIR": str(root / "data"),
        "AMPARO_DATABASE_URL": f"sqlite:///{root / 'data' / 'amparo.db'}",
        "AMPARO_DETECTORS": "none",
        "AMPARO_MASTER_KEY": "11" * 32,
        "AMPARO_WATERMARK_KEY": "22" * 32,
        "AMPARO_SESSION_SECRET": "s" * 32,
    }
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        w = World(root)
        # Local Ray workers inherit this environment: they find the same database and index.
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        try:
            yield w
        finally:
            ray.shutdown()
            w.svc.close()


def removal(out: Path) -> list[dict[str, str]]:
    with open(out / "removal_list.csv", newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def as_tuples(rows: list[dict[str, Any]]) -> list[tuple[str, str, str, int, str]]:
    return sorted((r["sample_key"], r["hash_type"], r["hash"], int(r["match_distance"]), r["bank"]) for r in rows)


def test_shards_removal_list_exact_and_no_pixels(world: World, tmp_path: Path) -> None:
    out = tmp_path / "out"
    summary = run_scan([str(world.root / "laion")], ScanOptions(out_dir=str(out)), RunConfig(workers=2))
    # 3 tars + the image parquet; the metadata parquet img2dataset writes beside each tar is no shard.
    assert summary["shards"] == 4 and summary["shards_scanned"] == 4
    assert summary["samples"] == 3 * 8 + 6 and summary["errors"] == 0
    rows = removal(out)
    assert as_tuples(rows) == world.expected_dataset_rows()
    assert {r["list_version"] for r in rows} == {summary["list_version"]}
    by_key = {r["sample_key"]: r for r in rows}
    assert by_key[world.k_url]["url"] == url_of(world.k_url)
    assert by_key[world.k_other]["category"] == "ncii"
    assert world.k_safe not in by_key  # cancelled by the safe bank
    # Results: keys, hashes, matches only; every sample hashed with the reference PDQ.
    results = [r for f in sorted((out / "shards").iterdir()) for r in read_rows(f)]
    assert {tuple(r) for r in results} == {COLUMNS}
    assert len(results) == 30
    for r in results:
        data = world.tars.get(r["key"]) or world.parquet[r["key"]]
        assert r["pdq"] == ref_pdq(data) and r["md5"] == hashlib.md5(data).hexdigest()
        assert r["status"] == ("matched" if r["key"] in by_key else "clean")
    import pyarrow.parquet as pq

    for f in (out / "shards").iterdir():
        assert all(str(t) in ("string", "int32") for t in pq.read_schema(f).types)
    manifest = json.loads((out / "manifest.json").read_text())
    assert len(manifest["shards"]) == 4 and manifest["list_version"] == summary["list_version"]


def test_folder_through_the_cli_with_cascade(world: World, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from amparo.cli.main import app

    out = tmp_path / "out"
    args = ["scan-dataset", str(world.root / "photos"), "--out", str(out), "--format", "jsonl"]
    r = CliRunner().invoke(app, [*args, "--workers", "2", "--shard-size", "3", "--cascade", "--json", "--no-progress"])
    assert r.exit_code == 1, r.output  # an ncii match: exit 1, as `amparo scan`
    summary = json.loads(r.stdout.strip().splitlines()[-1])
    assert summary["shards"] == 3 and summary["samples"] == 7 and summary["severe"] == 1
    rows = removal(out)
    assert as_tuples(rows) == [("sub1/img001.jpg", "pdq", ref_pdq(world.folder["sub1/img001.jpg"]), 0, "INTIMATE")]
    results = {r["key"]: r for f in (out / "shards").iterdir() for r in read_rows(f)}
    assert set(results) == set(world.folder)
    assert results["sub1/img001.jpg"]["decision"] == "block"
    assert {r["decision"] for k, r in results.items() if k != "sub1/img001.jpg"} == {"allow"}
    assert (out / "removal_list.jsonl").exists()
    # Bad usage is exit 2 and writes nothing.
    r = CliRunner().invoke(app, ["scan-dataset", str(tmp_path / "nope"), "--out", str(tmp_path / "o2")])
    assert r.exit_code == 2 and not (tmp_path / "o2").exists()


def test_metadata_parquet_joins_md5_and_url_without_fetching(world: World, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    keys = sorted(world.tars)
    meta = [{"key": k, "url": url_of(k), "md5": hashlib.md5(world.tars[k]).hexdigest().upper()} for k in keys[15:22]]
    pq.write_table(pa.Table.from_pylist(meta), tmp_path / "links.parquet")
    out = tmp_path / "out"
    summary = run_scan(
        [str(tmp_path / "links.parquet")], ScanOptions(out_dir=str(out), format="jsonl"), RunConfig(workers=1)
    )
    assert summary["samples"] == 7
    assert as_tuples(removal(out)) == [
        (world.k_md5, "md5", hashlib.md5(world.tars[world.k_md5]).hexdigest(), 0, "KNOWN"),
        (world.k_url, "url_sha256", url_sha256(url_of(world.k_url)), 0, "KNOWN"),
    ]
    statuses = {r["key"]: r["status"] for f in (out / "shards").iterdir() for r in read_rows(f)}
    assert statuses == {k: ("matched" if k in (world.k_md5, world.k_url) else "not_fetched") for k in keys[15:22]}


class Crash(Exception):
    pass


def test_resume_after_a_crash_continues_from_finished_shards(world: World, tmp_path: Path) -> None:
    out = tmp_path / "out"
    options, config = ScanOptions(out_dir=str(out)), RunConfig(workers=2)
    seen: list[str] = []

    def crash_after_two(row: dict[str, Any]) -> None:
        seen.append(row["shard"])
        if len(seen) == 2:
            raise Crash("driver killed mid-run")

    with pytest.raises(Crash):
        run_scan([str(world.root / "laion")], options, config, on_shard=crash_after_two)
    done = json.loads((out / "manifest.json").read_text())["shards"]
    assert sorted(done) == sorted(seen)  # exactly the finished shards are recorded
    second = run_scan([str(world.root / "laion")], options, config)
    assert second["shards_resumed"] == 2 and second["shards_scanned"] == 2 and second["samples"] == 30
    assert as_tuples(removal(out)) == world.expected_dataset_rows()
    # A third run has nothing left to do and starts no Ray work.
    third = run_scan([str(world.root / "laion")], options, config)
    assert third["shards_scanned"] == 0 and third["shards_resumed"] == 4 and "ray_init" not in third["timings"]
    assert as_tuples(removal(out)) == world.expected_dataset_rows()
    # Other options into the same folder would mix two kinds of output: refused before any work.
    with pytest.raises(Conflict) as e:
        run_scan([str(world.root / "laion")], ScanOptions(out_dir=str(out), format="jsonl"), config)
    assert e.value.code == "scan_options_changed"
    # So are banks changed since: one removal list holds one list version.
    with world.svc.db.session() as s:
        ids = management.add_entries(s, world.who, bank="KNOWN", entries=[NewEntry("md5", "0" * 32)])
    try:
        with pytest.raises(Conflict) as e:
            run_scan([str(world.root / "laion")], options, config)
        assert e.value.code == "scan_banks_changed"
    finally:
        with world.svc.db.session() as s:
            management.remove_entries(s, world.who, bank="KNOWN", entry_ids=ids)
