"""Video generation guard benchmark: what the guard adds to a generated clip before it is released,
and how long `amparo trace` takes on a re-encoded copy as the ledger grows.

    OMP_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python bench/bench_video_guard.py [--detectors default]

1. Release cost per clip (1280x720, 24 fps, drawn by the stand-in generator: 4, 8 and 12 s), CPU
   seconds (process_time), the median of --repeat runs, one thread:
   - scan: the pipeline's check of the video (decode, vPDQ, bank and frame-index matching, the
     detectors on every sampled frame when --detectors default), not recorded;
   - sign: the C2PA manifest into the MP4 (c2pa-python, offline);
   - ledger vPDQ + previews: the second decode of the signed file, thumbnail and spritesheet
     (both signed).
   Baseline in the same run: vPDQ hashing of the clip alone (one decode; the floor any scan pays).
2. Trace of a VP9/WebM half-size copy of one released clip against a ledger of N generated videos
   x 12 frames (random PDQ hashes, bulk-inserted) plus the real one: end to end (query hashing and
   the linear frame scan): the first trace of a new Tracer (it reads the ledger's frames) and the
   median of 5 more (frames cached, as the API's tracer keeps them). Baseline: hashing the query
   alone."""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))


def cpu(fn: Any) -> tuple[float, Any]:
    c0 = time.process_time()
    out = fn()
    return time.process_time() - c0, out


def clip(seconds: int) -> bytes:
    from amparo.proxy.standin_video import draw_frames, encode_mp4

    return encode_mp4(draw_frames(f"bench clip {seconds}", (1280, 720), seconds, 24), 24)


def reencode(data: bytes) -> bytes:
    import av

    out = io.BytesIO()
    with av.open(io.BytesIO(data)) as src, av.open(out, mode="w", format="webm") as dst:
        vin = src.streams.video[0]
        st = dst.add_stream("libvpx-vp9", rate=Fraction(vin.average_rate))
        st.width, st.height, st.pix_fmt = vin.codec_context.width // 2, vin.codec_context.height // 2, "yuv420p"
        st.options = {"deadline": "realtime", "cpu-used": "8", "crf": "45", "b": "0"}
        for f in src.decode(vin):
            for p in st.encode(av.VideoFrame.from_image(f.to_image().resize((st.width, st.height)))):
                dst.mux(p)
        for p in st.encode():
            dst.mux(p)
    return out.getvalue()


def release_steps(svc: Any, stamper: Any, data: bytes) -> dict[str, float]:
    import numpy as np

    from amparo.content.video import reduce_frame
    from amparo.domain.items import Item, ItemKind
    from amparo.pipeline_video import video_limits, video_sampling
    from amparo.proxy.video_outputs import spritesheet, thumbnail
    from amparo.signals.hashes.vpdq import hash_video

    s = svc.settings
    t_scan, v = cpu(lambda: svc.pipeline.check(Item(kind=ItemKind.VIDEO, image=data), record=False))
    t_sign, signed = cpu(lambda: stamper.sign_video(data, generation_id="gen_bench"))
    previews: list[Any] = []

    def ledger_and_previews() -> None:
        hash_video(
            signed,
            sampling=video_sampling(s),
            limits=video_limits(s),
            on_frame=lambda fr, _: previews.append(np.ascontiguousarray(reduce_frame(fr.rgb, 720))),
        )
        stamper.sign_preview(thumbnail(previews[0]), "image/webp", generation_id="gen_bench")
        stamper.sign_preview(spritesheet(previews), "image/jpeg", generation_id="gen_bench")

    t_rest, _ = cpu(ledger_and_previews)
    return {"scan": t_scan, "sign": t_sign, "ledger_previews": t_rest, "decision": v.decision.value}  # type: ignore[dict-item]


def fill_ledger(svc: Any, first: int, n: int, real: bytes | None) -> None:
    """n random generated videos x 12 frames (ids from `first`), plus the real clip's frames once."""
    import sqlalchemy as sa

    from amparo.signals.hashes.vpdq import hash_video
    from amparo.store.tables_events import GenerationRow
    from amparo.store.tables_video_gen import GenerationVideoFrameRow

    now = __import__("datetime").datetime.now(__import__("datetime").UTC)
    gens, frames = [], []
    for i in range(first, first + n):
        gid = f"gen_{i:032x}"
        gens.append(
            {
                "generation_id": gid,
                "created_at": now,
                "operation": "video_generation",
                "request_sha256": "0" * 64,
                "decision": "allow",
                "reasons": [],
                "input_hashes": {},
                "outputs": [],
            }
        )
        frames += [
            {
                "generation_id": gid,
                "output_index": 0,
                "frame_number": k,
                "timestamp": float(k),
                "quality": 100,
                "hash": secrets.token_hex(32),
            }
            for k in range(12)
        ]
    if real is not None:
        gid = "gen_" + "f" * 32
        gens.append(
            {
                "generation_id": gid,
                "created_at": now,
                "operation": "video_generation",
                "request_sha256": "0" * 64,
                "decision": "allow",
                "reasons": [],
                "input_hashes": {},
                "outputs": [],
            }
        )
        frames += [
            {
                "generation_id": gid,
                "output_index": 0,
                "frame_number": f.frame_number,
                "timestamp": f.timestamp,
                "quality": f.quality,
                "hash": f.hash,
            }
            for f in hash_video(real).frames
        ]
    with svc.db.engine.begin() as c:
        c.execute(sa.insert(GenerationRow.__table__), gens)
        for i in range(0, len(frames), 20_000):
            c.execute(sa.insert(GenerationVideoFrameRow.__table__), frames[i : i + 20_000])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--detectors", default="none", help="none | default (the real detectors on every sampled frame)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ledger", default="1000,10000", help="generated videos in the ledger for the trace runs")
    args = ap.parse_args()
    from amparo.provenance.trace import Tracer
    from amparo.proxy.stamping import Stamper
    from amparo.service import Service
    from amparo.settings import Settings
    from amparo.signals.hashes.vpdq import hash_video

    out: dict[str, Any] = {"detectors": args.detectors, "release": [], "trace": []}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            environment="test",
            data_dir=Path(tmp),
            detectors=args.detectors,
            master_key="11" * 32,
            watermark_key="22" * 32,
        )
        svc = Service(settings)
        stamper = Stamper.from_settings(settings)
        clips = {s: clip(s) for s in (4, 8, 12)}
        release_steps(svc, stamper, clips[4])  # warm up (models, signer)
        for seconds, data in clips.items():
            runs = [release_steps(svc, stamper, data) for _ in range(args.repeat)]
            base = statistics.median(cpu(lambda d=data: hash_video(d))[0] for _ in range(args.repeat))
            med = {k: statistics.median(r[k] for r in runs) for k in ("scan", "sign", "ledger_previews")}
            total = sum(med.values())
            out["release"].append(
                {
                    "seconds": seconds,
                    "bytes": len(data),
                    "cpu_s": {k: round(v, 3) for k, v in med.items()},
                    "total_cpu_s": round(total, 3),
                    "baseline_vpdq_cpu_s": round(base, 3),
                    "ratio_to_baseline": round(total / base, 2),
                    "decision": runs[-1]["decision"],
                }
            )
            print(json.dumps(out["release"][-1]), flush=True)
        copy = reencode(stamper.sign_video(clips[8], generation_id="gen_x"))
        done = 0
        for n in (int(x) for x in args.ledger.split(",")):
            fill_ledger(svc, done, n - done, clips[8] if done == 0 else None)
            done = n
            tracer = Tracer.for_service(svc, watermark_key=None)
            cold, res = cpu(lambda tr=tracer: tr.trace(copy))  # loads the ledger's frames
            times = []
            for _ in range(5):
                t, res = cpu(lambda tr=tracer: tr.trace(copy))
                times.append(t)
            base = statistics.median(cpu(lambda: hash_video(copy))[0] for _ in range(3))
            out["trace"].append(
                {
                    "ledger_videos": n,
                    "frames": n * 12,
                    "found": res.found,
                    "method": res.method,
                    "cpu_s_first": round(cold, 3),
                    "cpu_s_p50_cached": round(statistics.median(times), 3),
                    "baseline_query_vpdq_cpu_s": round(base, 3),
                    "right_generation": res.generation is not None
                    and res.generation["generation_id"] == "gen_" + "f" * 32,
                }
            )
            print(json.dumps(out["trace"][-1]), flush=True)
        svc.close()
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
