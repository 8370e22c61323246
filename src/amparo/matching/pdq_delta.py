"""Append-only change log next to a base segment (`delta.pdqlog`): adds and removals since the base.

Layout, little-endian: a 64-byte header (magic, version, record size, base generation), then
48-byte records. A batch is a run of ADD/REMOVE records closed by one COMMIT record that carries
the batch's record count, the crc32 of its bytes and the applied_seq after it. Reading stops at the
first batch that is truncated or fails its checksum (a crash mid-append): everything before it is
used, the tail is ignored, and a writer truncates it away before appending again.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

MAGIC = b"AMPDQLOG"
VERSION = 1
HEADER_SIZE = 64
KIND_ADD = 1
KIND_REMOVE = 2
KIND_COMMIT = 3

RECORD = np.dtype(
    [("kind", "u1"), ("pad", "u1", (3,)), ("aux", "<u4"), ("id", "<i8"), ("hash", "u1", (32,))]
)
_HEADER = struct.Struct("<8sIIq")


@dataclass(frozen=True)
class Batch:
    """One committed change set: records in order (kind, id, hash) and the watermark after it."""

    kinds: np.ndarray  # uint8 (k,)
    ids: np.ndarray  # int64 (k,)
    hashes: np.ndarray  # uint8 (k, 32)
    applied_seq: int


@dataclass(frozen=True)
class Log:
    generation: int
    batches: list[Batch]
    good_size: int  # bytes of header + complete batches; anything after is a torn tail


def _encode(batch: Batch) -> bytes:
    k = batch.kinds.shape[0]
    rec = np.zeros(k + 1, RECORD)
    rec["kind"][:k] = batch.kinds
    rec["id"][:k] = batch.ids
    rec["hash"][:k] = batch.hashes
    body = rec[:k].tobytes()
    rec["kind"][k] = KIND_COMMIT
    rec["aux"][k] = zlib.crc32(body)
    rec["id"][k] = batch.applied_seq
    rec["hash"][k, :8] = np.frombuffer(struct.pack("<Q", k), np.uint8)
    return body + rec[k:].tobytes()


def _header(generation: int) -> bytes:
    return _HEADER.pack(MAGIC, VERSION, RECORD.itemsize, generation).ljust(HEADER_SIZE, b"\0")


def write_log(path: Path, generation: int, batches: list[Batch]) -> None:
    """Write a fresh log (fsynced, not yet renamed into place)."""
    with open(path, "wb") as f:
        f.write(_header(generation))
        for batch in batches:
            f.write(_encode(batch))
        f.flush()
        os.fsync(f.fileno())


def append_batch(path: Path, good_size: int, batch: Batch) -> int:
    """Append one committed batch after the last good byte; returns the new good size."""
    data = _encode(batch)
    with open(path, "r+b") as f:
        f.truncate(good_size)  # drop a torn tail left by a crash before appending after it
        f.seek(good_size)
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return good_size + len(data)


def read_log(path: Path) -> Log | None:
    """Complete batches of a log; None when the file is missing or not a log of this version."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    if len(raw) < HEADER_SIZE:
        return None
    magic, version, record_size, generation = _HEADER.unpack_from(raw)
    if magic != MAGIC or version != VERSION or record_size != RECORD.itemsize:
        return None
    usable = (len(raw) - HEADER_SIZE) // RECORD.itemsize
    rec = np.frombuffer(raw, RECORD, count=usable, offset=HEADER_SIZE)
    commits = np.flatnonzero(rec["kind"] == KIND_COMMIT)
    batches: list[Batch] = []
    begin = 0
    for c in commits.tolist():
        (count,) = struct.unpack("<Q", rec["hash"][c, :8].tobytes())
        if count != c - begin or zlib.crc32(rec[begin:c].tobytes()) != int(rec["aux"][c]):
            break
        body = rec[begin:c]
        if not np.isin(body["kind"], (KIND_ADD, KIND_REMOVE)).all():
            break
        batches.append(
            Batch(body["kind"].copy(), body["id"].copy(), body["hash"].copy(), int(rec["id"][c]))
        )
        begin = c + 1
    return Log(int(generation), batches, HEADER_SIZE + begin * RECORD.itemsize)
