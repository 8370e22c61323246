"""Video benchmark: vPDQ hashing speed, frame-index queries, live additions of banked videos.

    OMP_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python bench/bench_video.py [--videos 10000 --frames 100]

1. Hashing at one frame a second, CPU seconds (process_time, all threads) per second of video:
   - Amparo: content/video.py + signals/hashes/vpdq.py (PyAV from memory, one decoder thread);
   - python-threatexchange's vPDQ path (`vpdq.computeHash`), when importable in this run;
   - OpenCV: VideoCapture on a file, grab() every frame, retrieve() one a second, pdqhash;
   - frame by frame: PyAV decodes and pdqhash hashes every frame (what hashing all frames costs).
   Videos: a synthetic 1280x720 30 fps H.264 clip drawn here (textured pan + moving boxes), plus the
   720p reference sample videos of facebook/ThreatExchange when bench/data/vpdq/videos holds them.
2. Queries: N banked videos x F frames of uniformly random PDQ hashes in SQLite through the real
   repository and VideoMatcher (database feed -> index). 200 queries of 60 frames: 10 near copies
   (<= 12 bits flipped) of one banked video's frames, 50 random (thresholds lowered to banked 5 %,
   query 15 %, so that those 10 frames make a match to check). Timed: `lookup_video` end to end
   (index search, database look-ups of the hits, shares, ranges). Baseline in the same run: a faiss
   IndexBinaryFlat range search at 31 over the same hashes (python-threatexchange's / HMA's vPDQ
   index), index only.
3. Live additions: 10,000 more videos x 30 frames are committed to the database, then the running
   matcher's refresh() applies them; both times are reported."""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
DATA = REPO / "bench" / "data"


def synthetic_720p(seconds: int = 30) -> bytes:
    path = DATA / "video" / f"synthetic-720p-{seconds}s.mp4"
    if path.is_file():
        return path.read_bytes()
    import av

    rng = np.random.default_rng(7)
    tex = rng.integers(0, 256, size=(360, 640, 3), dtype=np.uint8).repeat(4, 0).repeat(4, 1)
    tex = (tex.astype(np.float32) * 0.5 + np.linspace(0, 120, tex.shape[1])[None, :, None]).astype(np.uint8)
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        st = out.add_stream("libx264", rate=Fraction(30))
        st.width, st.height, st.pix_fmt = 1280, 720, "yuv420p"
        st.options = {"preset": "veryfast", "crf": "23"}
        st.codec_context.thread_count = 1
        for i in range(seconds * 30):
            x, y = (i * 3) % 1280, (i * 2) % 720
            img = (
                np.ascontiguousarray(tex[y : y + 720, x : x + 1280])
                if y + 720 <= 1440 and x + 1280 <= 2560
                else tex[:720, :1280]
            )
            img = img.copy()
            for k in range(4):
                cx, cy = int(640 + 400 * np.sin(i / 40 + k)), int(360 + 250 * np.cos(i / 55 + 2 * k))
                img[max(0, cy - 60) : cy + 60, max(0, cx - 90) : cx + 90] = (60 * k, 255 - 50 * k, 90)
            for p in st.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(p)
        for p in st.encode():
            out.mux(p)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return buf.getvalue()


def _cpu(fn):  # type: ignore[no-untyped-def]
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def hash_amparo(data: bytes) -> int:
    from amparo.content.video import Sampling
    from amparo.signals.hashes.vpdq import hash_video

    return len(hash_video(data, sampling=Sampling(1.0)).frames)


def hash_opencv(path: Path) -> int:
    import cv2
    import pdqhash

    cv2.setNumThreads(1)
    cap = cv2.VideoCapture(str(path))
    mod = max(1, int(cap.get(cv2.CAP_PROP_FPS)))
    n = kept = 0
    while cap.grab():
        if n % mod == 0:
            ok, bgr = cap.retrieve()
            if ok:
                pdqhash.compute(np.ascontiguousarray(bgr[:, :, ::-1]))
                kept += 1
        n += 1
    cap.release()
    return kept


def hash_every_frame(data: bytes) -> int:
    import av
    import pdqhash

    with av.open(io.BytesIO(data)) as c:
        s = c.streams.video[0]
        s.codec_context.thread_count = 1
        n = 0
        for fr in c.decode(s):
            pdqhash.compute(fr.to_ndarray(format="rgb24"))
            n += 1
    return n


def bench_hashing() -> list[dict]:  # type: ignore[type-arg]
    import av

    videos = [("synthetic 1280x720 30 fps, 30 s", synthetic_720p())]
    for p in sorted((DATA / "vpdq" / "videos").glob("*.mp4")):
        if p.stat().st_size:
            with av.open(str(p)) as c:
                if c.streams.video[0].codec_context.height >= 720:
                    videos.append((f"TE sample {p.stem}", p.read_bytes()))
    try:
        from threatexchange.extensions.vpdq import vpdq_util  # noqa: F401

        pytx = True
    except Exception as e:  # the vpdq extension builds from source against FFmpeg dev libraries
        pytx = False
        pytx_error = f"{e.__class__.__name__}: {e}"
    rows = []
    for name, data in videos:
        with av.open(io.BytesIO(data)) as c:
            s = c.streams.video[0]
            duration = float(s.frames / s.average_rate) if s.frames else float(c.duration or 0) / 1e6
        tmp = DATA / "video" / "current.mp4"
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        row: dict = {"video": name, "seconds": round(duration, 2)}  # type: ignore[type-arg]
        for label, fn in (
            ("amparo", lambda d=data: hash_amparo(d)),
            ("opencv_1fps", lambda p=tmp: hash_opencv(p)),
            ("every_frame", lambda d=data: hash_every_frame(d)),
        ):
            cpu, n = min((_cpu(fn) for _ in range(2)), key=lambda x: x[0])
            row[label] = {"cpu_s": round(cpu, 3), "hashes": n, "video_s_per_cpu_s": round(duration / cpu, 2)}
        if pytx:
            from threatexchange.extensions.vpdq.vpdq_util import hash_file_compact

            cpu, n = _cpu(lambda p=tmp: len(hash_file_compact(str(p), 1.0)))
            row["pytx"] = {"cpu_s": round(cpu, 3), "hashes": n, "video_s_per_cpu_s": round(duration / cpu, 2)}
        else:
            row["pytx"] = {"error": pytx_error}
        rows.append(row)
        print(json.dumps(row), flush=True)
    return rows


def _flip(rng: np.random.Generator, h: np.ndarray, bits: int) -> np.ndarray:
    out = np.unpackbits(h)
    idx = rng.choice(256, size=bits, replace=False)
    out[idx] ^= 1
    return np.packbits(out)


def bench_matching(n_videos: int, n_frames: int, queries: int, live_videos: int) -> dict:  # type: ignore[type-arg]
    from amparo.matching.video_matcher import VideoMatcher, VideoThresholds
    from amparo.signals.hashes.vpdq import VpdqFrame
    from amparo.store import banks_repo, video_repo
    from amparo.store.database import Database

    rng = np.random.default_rng(11)
    res: dict = {"banked_videos": n_videos, "frames_per_video": n_frames}  # type: ignore[type-arg]
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        db.migrate()
        with db.session() as s:
            bank_id = banks_repo.create_bank(s, name="bench", category="csam").id
        all_hashes = rng.integers(0, 256, size=(n_videos * n_frames, 32), dtype=np.uint8)
        hexes = [h.tobytes().hex() for h in all_hashes]

        def insert(first: int, count: int, frames: int, hx: list[str]) -> None:
            for start in range(first, first + count, 1000):
                batch = [
                    video_repo.VideoIn(
                        [video_repo.FrameIn(i, 100, hx[(v - first) * frames + i], float(i)) for i in range(frames)],
                        {"seconds_per_hash": 1.0},
                    )
                    for v in range(start, min(first + count, start + 1000))
                ]
                with db.session() as s:
                    video_repo.add_videos(s, bank_id=bank_id, videos=batch)

        t0 = time.perf_counter()
        insert(0, n_videos, n_frames, hexes)
        res["db_insert_s"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        vm = VideoMatcher(db, Path(tmp) / "index", stale_after=1e9)  # opens and applies the whole feed
        res["index_build_from_feed_s"] = round(time.perf_counter() - t0, 1)
        res["indexed_frames"] = len(vm.pdq)
        qs = []
        for _ in range(queries):
            v = int(rng.integers(0, n_videos))
            near = [_flip(rng, all_hashes[v * n_frames + i], int(rng.integers(0, 13))) for i in range(10)]
            rand = list(rng.integers(0, 256, size=(50, 32), dtype=np.uint8))
            qs.append((v, [VpdqFrame(i, 100, h.tobytes().hex(), float(i)) for i, h in enumerate(near + rand)]))
        vm.lookup_video(qs[0][1])  # warm the kernel (numba) and the database connection
        lat, found = [], 0
        for v, frames in qs:
            t0 = time.perf_counter()
            out = vm.lookup_video(frames, thresholds=VideoThresholds(0.05, 0.15))
            lat.append((time.perf_counter() - t0) * 1000)
            found += any(m.entry_id == v + 1 for m in out.matches)
        lat_index = []
        for _, frames in qs:
            arr = np.frombuffer(bytes.fromhex("".join(f.hash for f in frames)), dtype=np.uint8).reshape(-1, 32)
            t0 = time.perf_counter()
            vm.pdq.search_many(arr, 31)
            lat_index.append((time.perf_counter() - t0) * 1000)
        res["query_60_frames_ms"] = _pct(lat)
        res["query_60_frames_index_only_ms"] = _pct(lat_index)
        res["queries"] = queries
        res["banked_video_found_by_its_10_frames"] = f"{found}/{queries} (thresholds: banked 0.05, query 0.15)"
        try:
            import faiss

            faiss.omp_set_num_threads(1)
            fi = faiss.IndexBinaryFlat(256)
            fi.add(all_hashes)
            fl = []
            for _, frames in qs[: min(queries, 50)]:
                arr = np.frombuffer(bytes.fromhex("".join(f.hash for f in frames)), dtype=np.uint8).reshape(-1, 32)
                t0 = time.perf_counter()
                fi.range_search(arr, 32)  # faiss keeps distances < radius: <= 31
                fl.append((time.perf_counter() - t0) * 1000)
            res["faiss_flat_query_60_frames_ms"] = _pct(fl) | {"n": len(fl)}
            del fi
        except ImportError as e:
            res["faiss_flat_query_60_frames_ms"] = {"error": str(e)}
        # Live additions to the running matcher.
        live = rng.integers(0, 256, size=(live_videos * 30, 32), dtype=np.uint8)
        live_hex = [h.tobytes().hex() for h in live]
        t0 = time.perf_counter()
        insert(n_videos, live_videos, 30, live_hex)
        res["live_db_insert_s"] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()
        applied = vm.refresh()
        res["live_index_refresh_s"] = round(time.perf_counter() - t0, 2)
        res["live_videos"], res["live_frames_applied"] = live_videos, applied
        near = VpdqFrame(0, 100, _flip(rng, live[5 * 30], 6).tobytes().hex(), 0.0)
        res["live_video_found_after_refresh"] = any(m.entry_id == n_videos + 6 for m in vm.lookup_video([near]).matches)
        vm.close()
        db.dispose()
    return res


def bench_cascade(repeat: int) -> dict:  # type: ignore[type-arg]
    """The full flow on a 60 s 720p clip of benign frames with the real detectors (open_nsfw, then
    faces/age only where nudity asks), one thread: decode + vPDQ + matching + nudity on 60 frames
    + policy. Not recorded (record=False)."""
    from amparo.domain.items import Item
    from amparo.service import Service
    from amparo.settings import Settings

    clip = synthetic_720p(60)
    with tempfile.TemporaryDirectory(dir=DATA) as tmp:
        svc = Service(Settings(data_dir=Path(tmp), detectors="default"))
        names = list(svc.detectors.names)
        svc.pipeline.check(Item.from_video(clip), record=False)  # load the models
        wall, cpu, stages = [], [], []
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.process_time()
            v = svc.pipeline.check(Item.from_video(clip), record=False)
            wall.append((time.perf_counter() - t0) * 1000)
            cpu.append((time.process_time() - c0) * 1000)
            stages.append({st.name: round(st.elapsed_ms, 1) for st in v.stages if st.ran})
        svc.close()
    return {
        "detectors": names,
        "runs": repeat,
        "decision": v.decision.value,
        "wall_ms": _pct(wall) | {"p99": round(sorted(wall)[int(0.99 * (len(wall) - 1))], 1)},
        "cpu_ms": _pct(cpu) | {"p99": round(sorted(cpu)[int(0.99 * (len(cpu) - 1))], 1)},
        "stages_ms_last": stages[-1],
    }


def _pct(xs: list[float]) -> dict:  # type: ignore[type-arg]
    xs = sorted(xs)
    return {
        "p50": round(statistics.median(xs), 2),
        "p95": round(xs[int(0.95 * (len(xs) - 1))], 2),
        "max": round(xs[-1], 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--videos", type=int, default=10_000)
    ap.add_argument("--frames", type=int, default=100)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--live", type=int, default=10_000)
    ap.add_argument("--skip-hashing", action="store_true")
    ap.add_argument("--skip-matching", action="store_true")
    ap.add_argument("--cascade", type=int, default=0, help="runs of the full cascade on a 60 s 720p clip")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    out: dict = {"loadavg": os.getloadavg()}  # type: ignore[type-arg]
    if not args.skip_hashing:
        out["hashing"] = bench_hashing()
    if not args.skip_matching:
        out["matching"] = bench_matching(args.videos, args.frames, args.queries, args.live)
        print(json.dumps(out["matching"]), flush=True)
    if args.cascade:
        out["cascade"] = bench_cascade(args.cascade)
        print(json.dumps(out["cascade"]), flush=True)
    out["loadavg_end"] = os.getloadavg()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
