"""PDQIndex: exactness against brute force, incremental changes, persistence, crashes, threads."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from amparo.errors import BadInput, Conflict
from amparo.matching import pdq_index as pdq_index_module
from amparo.matching import pdq_segment
from amparo.matching.pdq_index import (
    LOG_FILE,
    PDQIndex,
    pdq_bytes_to_hex,
    pdq_hex_to_bytes,
)


def flip_bits(rng: np.random.Generator, row: np.ndarray, k: int) -> np.ndarray:
    bits = np.unpackbits(row).copy()
    bits[rng.choice(256, size=k, replace=False)] ^= 1
    return np.packbits(bits)


def brute_force(model: dict[int, bytes], query: bytes, r: int) -> list[tuple[int, int]]:
    """Reference: (id, distance) within r, sorted by distance then id."""
    if not model:
        return []
    ids = np.fromiter(model.keys(), np.int64, len(model))
    hashes = np.frombuffer(b"".join(model.values()), np.uint8).reshape(-1, 32)
    q = np.unpackbits(np.frombuffer(query, np.uint8))
    dist = (np.unpackbits(hashes, axis=1) != q).sum(axis=1)
    hits = sorted((int(d), int(i)) for i, d in zip(ids, dist, strict=True) if d <= r)
    return [(i, d) for d, i in hits]


def planted_data(n: int, seed: int, max_k: int = 40) -> tuple[dict[int, bytes], list[bytes]]:
    """n random hashes plus, for every distance 0..max_k, a query with a neighbour at exactly it."""
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    model = {int(i) * 7 + 3: hashes[i].tobytes() for i in range(n)}
    keys = list(model)
    queries = []
    for k in range(max_k + 1):
        base = np.frombuffer(model[keys[rng.integers(n)]], np.uint8)
        queries.append(flip_bits(rng, base, k).tobytes())
    # a second neighbour for some queries, at another distance, so results hold several entries
    for k in range(0, max_k + 1, 5):
        q = np.frombuffer(queries[k], np.uint8)
        model[10**9 + k] = flip_bits(rng, q, (k * 3) % 32).tobytes()
    return model, queries


def build(path: Path, model: dict[int, bytes]) -> PDQIndex:
    ids = np.fromiter(model.keys(), np.int64, len(model))
    hashes = np.frombuffer(b"".join(model.values()), np.uint8).reshape(-1, 32)
    return PDQIndex.build(path, ids, hashes)


@pytest.mark.parametrize("n", [300, 20_000])  # linear-only segment and a multi-index one
def test_search_matches_brute_force_at_every_distance(tmp_path: Path, n: int) -> None:
    model, queries = planted_data(n, seed=n)
    with build(tmp_path / "ix", model) as index:
        if n >= pdq_segment.LINEAR_ONLY_BELOW:
            assert index.stats()["substrings"] > 0
        for r in (0, 1, 2, 7, 16, 31, 32, 40, 64):
            for q in queries:
                assert index.search(q, r) == brute_force(model, q, r), (r, q.hex())
        # every planted neighbour at distance k <= 31 is found at the default threshold
        for k, q in enumerate(queries):
            found = {d for _, d in index.search(q)}
            assert (k in found) == (k <= 31)
            assert all(d <= 31 for d in found)


def test_large_threshold_returns_everything(tmp_path: Path) -> None:
    model, queries = planted_data(5000, seed=2, max_k=3)
    with build(tmp_path / "ix", model) as index:
        hits = index.search(queries[0], 255)
        assert len(hits) == len(model)
        assert hits == brute_force(model, queries[0], 255)


def test_search_many_equals_search(tmp_path: Path) -> None:
    model, queries = planted_data(6000, seed=3)
    with build(tmp_path / "ix", model) as index:
        arr = np.frombuffer(b"".join(queries), np.uint8).reshape(-1, 32)
        assert index.search_many(arr, 31) == [index.search(q, 31) for q in queries]
        assert index.search(queries[5].hex()) == index.search(queries[5])


@pytest.mark.parametrize("initial", [0, 9000])
def test_incremental_add_remove_update(tmp_path: Path, initial: int) -> None:
    rng = np.random.default_rng(11)
    model, queries = planted_data(initial, seed=5) if initial else ({}, [])
    index = build(tmp_path / "ix", model) if model else PDQIndex.open(tmp_path / "ix")
    with index:
        # many small batches (linear tail) then one batch large enough to re-index the delta
        for step in range(30):
            ids = rng.integers(0, 2**40, 50)
            hashes = rng.integers(0, 256, (50, 32), dtype=np.uint8)
            index.add_many(ids, hashes)
            model.update({int(i): h.tobytes() for i, h in zip(ids, hashes, strict=True)})
            if step % 3 == 0 and model:
                gone = list(model)[:: max(1, len(model) // 40)][:40]
                index.remove_many(gone)
                for i in gone:
                    model.pop(i)
        big_ids = rng.integers(0, 2**40, pdq_index_module.TAIL_MAX + 100)
        big = rng.integers(0, 256, (big_ids.size, 32), dtype=np.uint8)
        index.add_many(big_ids, big)
        model.update({int(i): h.tobytes() for i, h in zip(big_ids, big, strict=True)})
        assert index.stats()["delta_indexed"] > 0
        # updates: same ids, new hashes near fresh queries
        fresh = [rng.integers(0, 256, 32, dtype=np.uint8) for _ in range(20)]
        upd_ids = list(model)[:20]
        upd = np.stack([flip_bits(rng, f, 3) for f in fresh])
        index.apply(added=[(i, h.tobytes()) for i, h in zip(upd_ids, upd, strict=True)], seq=42)
        model.update({i: h.tobytes() for i, h in zip(upd_ids, upd, strict=True)})
        assert index.applied_seq == 42
        assert len(index) == len(model)
        for f in fresh:
            assert index.search(f.tobytes(), 31) == brute_force(model, f.tobytes(), 31)
        for q in queries:
            assert index.search(q, 31) == brute_force(model, q, 31)
        # removed ids are gone, unknown removals are ignored
        index.remove_many([upd_ids[0], -5])
        assert upd_ids[0] not in index
        assert all(i != upd_ids[0] for i, _ in index.search(fresh[0].tobytes(), 31))


def test_duplicate_ids_in_one_batch_keep_the_last(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    h = rng.integers(0, 256, (3, 32), dtype=np.uint8)
    with PDQIndex.open(tmp_path / "ix") as index:
        index.add_many(np.array([5, 5, 6]), h)
        assert len(index) == 2
        assert index.search(h[1].tobytes(), 0) == [(5, 0)]
        assert index.search(h[0].tobytes(), 0) == []


def test_persistence_round_trip_and_compaction(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    model, queries = planted_data(7000, seed=6)
    rng = np.random.default_rng(1006)
    with build(path, model) as index:
        extra = {int(i): rng.integers(0, 256, 32, dtype=np.uint8).tobytes() for i in range(-50, 0)}
        index.apply(added=list(extra.items()), removed=list(model)[:100], seq=7)
        model.update(extra)
        for i in list(model)[:100]:
            model.pop(i)
        index.save(compact=False)
    with PDQIndex.open(path) as index:
        assert index.applied_seq == 7
        assert len(index) == len(model)
        for q in queries:
            assert index.search(q) == brute_force(model, q, 31)
        index.compact()
        assert index.stats()["generation"] == 1
        assert index.stats()["delta_entries"] == 0
    with PDQIndex.open(path) as index:
        assert index.applied_seq == 7
        assert index.stats()["base_entries"] == len(model)
        for q in queries:
            assert index.search(q) == brute_force(model, q, 31)


def test_save_compacts_when_the_delta_is_large(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdq_index_module, "COMPACT_MIN_CHANGES", 100)
    rng = np.random.default_rng(8)
    with PDQIndex.open(tmp_path / "ix") as index:
        index.add_many(np.arange(500), rng.integers(0, 256, (500, 32), dtype=np.uint8))
        index.save(background=False)
        assert index.stats()["base_entries"] == 500
        assert index.stats()["delta_entries"] == 0


def test_bulk_add_goes_straight_to_a_new_base(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdq_index_module, "BULK_MIN", 1000)
    model, queries = planted_data(3000, seed=9)
    ids = np.fromiter(model.keys(), np.int64, len(model))
    hashes = np.frombuffer(b"".join(model.values()), np.uint8).reshape(-1, 32)
    with PDQIndex.open(tmp_path / "ix") as index:
        index.apply(added=[(1, bytes(32))], seq=3)
        index.add_many(ids, hashes)
        model[1] = bytes(32)
        assert index.stats()["base_entries"] == len(model)
        for q in queries:
            assert index.search(q) == brute_force(model, q, 31)
    with PDQIndex.open(tmp_path / "ix") as index:
        assert index.applied_seq == 3
        assert len(index) == len(model)


def test_first_sync_in_batches_compacts_geometrically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdq_index_module, "BULK_MIN", 1000)
    model, queries = planted_data(12_000, seed=16)
    items = list(model.items())
    with PDQIndex.open(tmp_path / "ix") as index:
        for seq, start in enumerate(range(0, len(items), 500), start=1):
            index.apply(added=items[start : start + 500], seq=seq)
            assert index.stats()["delta_entries"] <= max(1000, index.stats()["base_entries"] // 2)
        generations = index.stats()["generation"]
        assert 3 <= generations <= 8
        assert len(index) == len(model)
        for q in queries:
            assert index.search(q) == brute_force(model, q, 31)
    with PDQIndex.open(tmp_path / "ix") as index:  # compactions persisted, the tail was not saved
        assert index.stats()["generation"] == generations
        assert len(index) == index.stats()["base_entries"] <= len(model)


def test_truncated_log_tail_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    model, queries = planted_data(5000, seed=12)
    rng = np.random.default_rng(1012)
    first = {int(i): rng.integers(0, 256, 32, dtype=np.uint8).tobytes() for i in range(-10, 0)}
    second = {int(i): rng.integers(0, 256, 32, dtype=np.uint8).tobytes() for i in range(-20, -10)}
    with build(path, model) as index:
        index.apply(added=list(first.items()), seq=1)
        index.save(compact=False)
        good = (path / LOG_FILE).stat().st_size
        index.apply(added=list(second.items()), removed=list(model)[:5], seq=2)
        index.save(compact=False)
    full = (path / LOG_FILE).read_bytes()
    expected = {**model, **first}
    # a crash at any point inside the second batch leaves a torn tail
    for cut in (good + 1, good + 48, len(full) - 1):
        (path / LOG_FILE).write_bytes(full[:cut])
        with PDQIndex.open(path) as index:
            assert index.applied_seq == 1
            assert len(index) == len(expected)
            for key in (-1, -10):
                assert index.search(expected[key], 0) == [(key, 0)]
            assert index.search(second[-11], 0) == []
    # a flipped byte inside the last batch fails its checksum the same way
    corrupt = bytearray(full)
    corrupt[good + 20] ^= 0xFF
    (path / LOG_FILE).write_bytes(bytes(corrupt))
    with PDQIndex.open(path) as index:
        assert index.applied_seq == 1
        # the writer truncates the torn tail before appending, so the next batch is readable
        index.apply(added=[(-99, second[-11])], seq=5)
        index.save(compact=False)
    with PDQIndex.open(path) as index:
        assert index.applied_seq == 5
        assert index.search(second[-11], 0) == [(-99, 0)]
        for q in queries:
            assert index.search(q) == brute_force({**expected, -99: second[-11]}, q, 31)


def test_log_from_before_a_compaction_is_ignored(tmp_path: Path) -> None:
    """Crash between renaming the new base and the new log: the old-generation log must not be
    replayed onto the new base (the new base already holds it)."""
    path = tmp_path / "ix"
    model, queries = planted_data(5000, seed=13)
    with build(path, model) as index:
        index.apply(removed=list(model)[:10], seq=1)
        index.save(compact=False)
        old_log = (path / LOG_FILE).read_bytes()
        index.apply(added=[(list(model)[0], model[list(model)[0]])], seq=2)
        index.compact()
    (path / LOG_FILE).write_bytes(old_log)
    for i in list(model)[1:10]:
        model.pop(i)
    with PDQIndex.open(path) as index:
        assert index.applied_seq == 2
        assert len(index) == len(model)
        for q in queries:
            assert index.search(q) == brute_force(model, q, 31)


def test_compaction_while_searching_from_another_thread(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    model, queries = planted_data(6000, seed=14)
    expected = [brute_force(model, q, 31) for q in queries]
    stable = set(model)
    errors: list[str] = []
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            for q, want in zip(queries, expected, strict=True):
                got = [hit for hit in index.search(q) if hit[0] in stable]
                if got != want:
                    errors.append(f"{q.hex()}: {got} != {want}")

    rng = np.random.default_rng(1014)
    with build(path, model) as index:
        readers = [threading.Thread(target=read) for _ in range(2)]
        for t in readers:
            t.start()
        try:
            for round_ in range(4):
                ids = np.arange(round_ * 3000, (round_ + 1) * 3000) + 2**40
                index.add_many(ids, rng.integers(0, 256, (ids.size, 32), dtype=np.uint8))
                index.remove_many(ids[:100])
                index.compact(background=True)
                index.apply(added=[(2**41 + round_, bytes(32))], seq=round_)
                index.compact()  # waits for the background one, then compacts again
        finally:
            stop.set()
            for t in readers:
                t.join()
        assert not errors, errors[:3]
        assert len(index) == len(model) + 4 * 2900 + 4
        assert index.stats()["generation"] == 8
    with PDQIndex.open(path) as index:
        assert index.applied_seq == 3
        assert len(index) == len(model) + 4 * 2900 + 4


def test_read_only_process_follows_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "ix"
    model, queries = planted_data(5000, seed=15)
    with build(path, model) as writer:
        reader = PDQIndex.open(path, readonly=True)
        assert not reader.reload()  # nothing new yet
        # the reader follows the database itself, in memory
        reader.apply(added=[(-1, queries[3])], seq=1)
        assert reader.search(queries[3], 0) == [(-1, 0)]
        writer.apply(added=[(-1, queries[3])], removed=list(model)[:3], seq=1)
        writer.compact()
        writer.apply(added=[(-2, queries[4])], seq=2)
        writer.save(compact=False)
        assert reader.reload()
        assert reader.applied_seq == 2
        assert reader.stats()["generation"] == writer.stats()["generation"]
        for i in list(model)[:3]:
            model.pop(i)
        model.update({-1: queries[3], -2: queries[4]})
        assert len(reader) == len(model)
        for q in queries:
            assert reader.search(q) == brute_force(model, q, 31)
        assert not writer.reload()


def test_hex_helpers() -> None:
    raw = bytes(range(32))
    assert pdq_hex_to_bytes(pdq_bytes_to_hex(raw)) == raw
    assert pdq_hex_to_bytes(" " + raw.hex().upper() + "\n") == raw
    for bad in ("", "ab", "zz" * 32, raw.hex() + "00"):
        with pytest.raises(BadInput):
            pdq_hex_to_bytes(bad)
    with pytest.raises(BadInput):
        pdq_hex_to_bytes(raw)  # type: ignore[arg-type]
    with pytest.raises(BadInput):
        pdq_bytes_to_hex(b"short")


def test_malformed_input_raises_bad_input(tmp_path: Path) -> None:
    with PDQIndex.open(tmp_path / "ix") as index:
        for query in (b"", b"x" * 31, b"x" * 33, "nothex", 5):
            with pytest.raises(BadInput):
                index.search(query)  # type: ignore[arg-type]
        for r in (-1, 256, 3.0, True):
            with pytest.raises(BadInput):
                index.search(bytes(32), r)  # type: ignore[arg-type]
        with pytest.raises(BadInput):
            index.add_many(np.arange(2), np.zeros((2, 31), np.uint8))
        with pytest.raises(BadInput):
            index.add_many(np.arange(3), np.zeros((2, 32), np.uint8))
        with pytest.raises(BadInput):
            index.add_many(np.arange(2.0), np.zeros((2, 32), np.uint8))
        with pytest.raises(BadInput):
            index.apply(added=[(1, b"short")])
        with pytest.raises(BadInput):
            index.apply(removed=["1"])  # type: ignore[list-item]
        with pytest.raises(BadInput):
            index.apply(seq="3")  # type: ignore[arg-type]
        with pytest.raises(BadInput):
            index.search_many(np.zeros((2, 16), np.uint8))
        assert len(index) == 0


def test_bad_files_and_writer_lock(tmp_path: Path) -> None:
    not_dir = tmp_path / "file"
    not_dir.write_bytes(b"x")
    with pytest.raises(BadInput):
        PDQIndex.open(not_dir)
    path = tmp_path / "ix"
    with PDQIndex.open(path):
        with pytest.raises(Conflict):
            PDQIndex.open(path)  # a second writer
        reader = PDQIndex.open(path, readonly=True)
        with pytest.raises(Conflict):
            reader.save()
    (path / "base.pdqidx").write_bytes(b"NOTANIDX" + bytes(5000))
    with pytest.raises(BadInput):
        PDQIndex.open(path)
    (path / "base.pdqidx").write_bytes(b"AMPDQ")
    with pytest.raises(BadInput):
        PDQIndex.open(path)


def test_layout_probes_are_exact_by_pigeonhole() -> None:
    for n in (4096, 50_000, 1_000_000, 10_000_000, 100_000_000):
        layout = pdq_segment.choose_layout(n)
        assert sum(layout.lengths) == 256 and max(layout.lengths) <= 32
        assert pdq_segment.bitmap_bytes(layout.lengths) <= pdq_segment.BITMAP_BUDGET
        for r in range(0, 256, 5):
            t, _ = pdq_segment.assign_flips(layout.lengths, n, r)
            assert int((t + 1).sum()) >= r + 1
