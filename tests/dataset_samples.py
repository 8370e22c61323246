"""Benign generated datasets for scan-dataset tests and its bench: smooth random colour fields
(no people, nothing else), written as img2dataset would write them (webdataset tars with json/txt
sidecars, parquet with image bytes, metadata parquet) or as a plain folder."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import numpy as np
from PIL import Image


def field_image(seed: int, size: int = 256, fmt: str = "JPEG") -> bytes:
    """A smooth random colour field: distinct PDQ per seed, high quality, compresses small."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
    img = Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC)
    buf = io.BytesIO()
    img.save(buf, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def url_of(key: str) -> str:
    return f"https://images.example.org/set/{key}.jpg"


def write_tar_shards(root: Path, *, shards: int, per_shard: int, size: int = 256, seed0: int = 0) -> dict[str, bytes]:
    """`root/0000N.tar` (+ the metadata parquet img2dataset puts beside each); key -> image bytes."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    root.mkdir(parents=True, exist_ok=True)
    images: dict[str, bytes] = {}
    for s in range(shards):
        meta_rows = []
        with tarfile.open(root / f"{s:05d}.tar", "w") as tar:
            for i in range(per_shard):
                key = f"{s:05d}{i:04d}"
                data = field_image(seed0 + s * per_shard + i, size)
                images[key] = data
                meta = {
                    "key": key,
                    "url": url_of(key),
                    "caption": "a colour field",
                    "status": "success",
                    "md5": hashlib.md5(data).hexdigest(),
                }
                meta_rows.append({"key": key, "url": url_of(key), "status": "success"})
                for ext, payload in (("jpg", data), ("json", json.dumps(meta).encode()), ("txt", b"a colour field")):
                    info = tarfile.TarInfo(f"{key}.{ext}")
                    info.size = len(payload)
                    tar.addfile(info, io.BytesIO(payload))
        pq.write_table(pa.Table.from_pylist(meta_rows), root / f"{s:05d}.parquet")
    return images


def write_image_parquet(path: Path, *, n: int, seed0: int) -> dict[str, bytes]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    images = {f"p{i:04d}": field_image(seed0 + i) for i in range(n)}
    rows = [{"key": k, "url": url_of(k), "jpg": v} for k, v in images.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path)
    return images


def write_folder(root: Path, *, n: int, seed0: int) -> dict[str, bytes]:
    images: dict[str, bytes] = {}
    for i in range(n):
        rel = f"sub{i % 2}/img{i:03d}.{'png' if i % 3 == 0 else 'jpg'}"
        data = field_image(seed0 + i, 128, "PNG" if i % 3 == 0 else "JPEG")
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
        images[rel] = data
    return images
