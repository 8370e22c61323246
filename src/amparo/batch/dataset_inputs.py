"""What `amparo scan-dataset` reads: shards, and the samples in each.

A shard is the unit of work, of output and of resumption. Three kinds:

- `tar`: a webdataset shard as img2dataset writes it (`00000.tar` holding `KEY.jpg` with
  `KEY.json` / `KEY.txt` sidecars; the json's `url`, `md5`, `sha256` and `key` are used);
- `parquet`: an img2dataset parquet shard with the image bytes in a column (`jpg`, `png`, `webp`,
  `image`, `bytes`, or a struct with a `bytes` field as Hugging Face writes), or a metadata
  parquet with `url` / `md5` / `sha256` columns and no images (joined against the banks only);
- `folder`: up to `shard_size` loose image files of a plain folder, in sorted order.

img2dataset writes a metadata `00000.parquet` beside each `00000.tar`; inside a folder that one is
the tar's metadata and is not a shard of its own. Samples are read lazily; an oversized member is
refused from its header, before its bytes are read. Nothing is extracted to disk."""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from amparo.batch.scan import IMAGE_SUFFIXES

IMAGE_EXTS = frozenset(s.lstrip(".") for s in IMAGE_SUFFIXES)
IMAGE_COLUMNS = ("jpg", "jpeg", "png", "webp", "image", "img", "bytes")
KEY_COLUMNS = ("key", "id", "sample_id")
URL_COLUMNS = ("url", "URL", "image_url")
MD5_COLUMNS = ("md5", "MD5")
SHA256_COLUMNS = ("sha256", "SHA256")
_PARQUET_BATCH = 256


@dataclass(frozen=True)
class Shard:
    id: str  # stable across runs: the manifest's key
    kind: str  # tar | parquet | folder
    path: str  # the file, or the folder's root
    files: tuple[str, ...] = ()  # folder shards: paths relative to `path`

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["files"] = list(self.files)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Shard:
        return cls(id=str(d["id"]), kind=str(d["kind"]), path=str(d["path"]), files=tuple(d.get("files") or ()))


@dataclass
class Sample:
    key: str
    data: bytes | None = None  # None: metadata only (or refused before reading)
    url: str | None = None
    meta: dict[str, str] = field(default_factory=dict)  # md5 / sha256 as the source gave them
    error: str | None = None


def discover_shards(paths: Iterable[str], *, shard_size: int = 1000) -> list[Shard]:
    """Every shard under the paths, in a stable order. Missing paths raise FileNotFoundError.

    A shard's id names it by the input's own name and the path below it (`laion/00012.tar`,
    `photos#000003` for the fourth chunk of a folder), not by where the data happens to be
    mounted, so a run resumes after the data moves and removal lists name shards portably."""
    shards: list[Shard] = []
    loose: list[str] = []
    for p in paths:
        path = Path(p)
        if not path.exists():
            raise FileNotFoundError(p)
        path = path.resolve()
        if path.is_dir():
            shards += _folder_shards(path, shard_size)
        elif path.suffix == ".tar":
            shards.append(Shard(f"tar:{path.name}", "tar", str(path)))
        elif path.suffix == ".parquet":
            shards.append(Shard(f"parquet:{path.name}", "parquet", str(path)))
        else:
            loose.append(str(path))
    for i in range(0, len(loose), shard_size):
        chunk = tuple(f.lstrip("/") for f in loose[i : i + shard_size])
        digest = hashlib.sha256("\n".join(chunk).encode()).hexdigest()[:16]
        shards.append(Shard(f"files:{digest}", "folder", "/", chunk))
    seen: set[str] = set()
    for s in shards:
        if s.id in seen:
            raise ValueError(f"two inputs give a shard named {s.id!r}; scan them into separate output folders")
        seen.add(s.id)
    return shards


def _folder_shards(root: Path, shard_size: int) -> list[Shard]:
    tars: list[Path] = []
    parquets: list[Path] = []
    images: list[str] = []
    for dirpath, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            fp = Path(dirpath) / name
            suffix = fp.suffix.lower()
            if suffix == ".tar":
                tars.append(fp)
            elif suffix == ".parquet":
                parquets.append(fp)
            elif suffix in IMAGE_SUFFIXES:
                images.append(str(fp.relative_to(root)))
    tar_stems = {t.with_suffix("") for t in tars}

    def label(fp: Path) -> str:
        return f"{root.name}/{fp.relative_to(root)}"

    out = [Shard(f"tar:{label(t)}", "tar", str(t)) for t in tars]
    out += [Shard(f"parquet:{label(q)}", "parquet", str(q)) for q in parquets if q.with_suffix("") not in tar_stems]
    for i in range(0, len(images), shard_size):
        chunk = tuple(images[i : i + shard_size])
        out.append(Shard(f"folder:{root.name}#{i // shard_size:06d}", "folder", str(root), chunk))
    return out


def read_samples(shard: Shard, *, max_bytes: int) -> Iterator[Sample]:
    if shard.kind == "tar":
        yield from _tar_samples(Path(shard.path), max_bytes)
    elif shard.kind == "parquet":
        yield from _parquet_samples(Path(shard.path), max_bytes)
    elif shard.kind == "folder":
        yield from _folder_samples(Path(shard.path), shard.files, max_bytes)
    else:
        raise ValueError(f"unknown shard kind {shard.kind!r}")


def _folder_samples(root: Path, files: Iterable[str], max_bytes: int) -> Iterator[Sample]:
    for rel in files:
        fp = root / rel
        try:
            size = fp.stat().st_size
            if size > max_bytes:
                yield Sample(rel, error=f"too_large: {size} bytes > {max_bytes}")
                continue
            yield Sample(rel, data=fp.read_bytes())
        except OSError as e:
            yield Sample(rel, error=f"{e.__class__.__name__}: {e.strerror or e}")


def _split_member(name: str) -> tuple[str, str]:
    """webdataset's rule: the key is the path up to the first dot of the file name."""
    head, _, base = name.rpartition("/")
    stem, dot, ext = base.partition(".")
    return (f"{head}/{stem}" if head else stem), (ext.lower() if dot else "")


def _tar_samples(path: Path, max_bytes: int) -> Iterator[Sample]:
    current: str | None = None
    parts: dict[str, bytes] = {}
    refused: str | None = None
    with tarfile.open(path, mode="r|*") as tar:
        for member in tar:
            if not member.isfile():
                continue
            key, ext = _split_member(member.name)
            if key != current:
                if current is not None:
                    yield _tar_sample(current, parts, refused)
                current, parts, refused = key, {}, None
            if member.size > max_bytes:
                refused = f"too_large: {ext} member of {member.size} bytes > {max_bytes}"
                continue
            f = tar.extractfile(member)
            if f is not None:
                parts[ext] = f.read()
    if current is not None:
        yield _tar_sample(current, parts, refused)


def _tar_sample(key: str, parts: dict[str, bytes], refused: str | None) -> Sample:
    meta: dict[str, Any] = {}
    if "json" in parts:
        try:
            loaded = json.loads(parts["json"])
            meta = loaded if isinstance(loaded, dict) else {}
        except ValueError:
            meta = {}
    image_ext = next((e for e in parts if e in IMAGE_EXTS), None)
    sample = Sample(
        key=str(meta.get("key") or key),
        data=parts[image_ext] if image_ext else None,
        url=_str_or_none(meta.get("url")),
        meta={k: str(meta[k]) for k in ("md5", "sha256") if isinstance(meta.get(k), str) and meta[k]},
    )
    if refused:
        sample.data, sample.error = None, refused
    elif image_ext is None and not sample.url and not sample.meta:
        sample.error = "no image in sample"
    return sample


def _str_or_none(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _pick(names: Iterable[str], candidates: Iterable[str]) -> str | None:
    have = set(names)
    return next((c for c in candidates if c in have), None)


def _parquet_samples(path: Path, max_bytes: int) -> Iterator[Sample]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    schema = pf.schema_arrow
    names = schema.names
    image_col = next(
        (
            c
            for c in IMAGE_COLUMNS
            if c in names
            and (
                pa.types.is_binary(schema.field(c).type)
                or pa.types.is_large_binary(schema.field(c).type)
                or pa.types.is_struct(schema.field(c).type)
            )
        ),
        None,
    )
    key_col, url_col = _pick(names, KEY_COLUMNS), _pick(names, URL_COLUMNS)
    md5_col, sha_col = _pick(names, MD5_COLUMNS), _pick(names, SHA256_COLUMNS)
    if image_col is None and not (url_col or md5_col or sha_col):
        raise ValueError(f"{path.name}: no image column ({', '.join(IMAGE_COLUMNS)}) and no url/md5/sha256 column")
    columns = [c for c in (image_col, key_col, url_col, md5_col, sha_col) if c]
    row = 0
    for batch in pf.iter_batches(batch_size=_PARQUET_BATCH, columns=columns):
        cols = batch.to_pydict()
        for i in range(batch.num_rows):
            key = str(cols[key_col][i]) if key_col and cols[key_col][i] is not None else f"{path.stem}/{row}"
            row += 1
            meta = {name: str(cols[c][i]) for name, c in (("md5", md5_col), ("sha256", sha_col)) if c and cols[c][i]}
            sample = Sample(key, url=_str_or_none(cols[url_col][i]) if url_col else None, meta=meta)
            if image_col:
                value = cols[image_col][i]
                if isinstance(value, dict):
                    value = value.get("bytes")
                if value is None:
                    sample.error = "no image in sample" if not (sample.url or meta) else None
                elif len(value) > max_bytes:
                    sample.error = f"too_large: {len(value)} bytes > {max_bytes}"
                else:
                    sample.data = bytes(value)
            yield sample
