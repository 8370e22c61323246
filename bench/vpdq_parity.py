"""Compare our vPDQ with the reference sample hashes of facebook/ThreatExchange (vpdq/sample-hashes).

The sample videos (tmk/sample-videos) and hash files are BSD-licensed by Meta; they are not in this
repository. Rebuild them outside git with:
    git -C <ThreatExchange checkout> show HEAD:tmk/sample-videos/<name>.mp4 > bench/data/vpdq/videos/<name>.mp4
    git -C <ThreatExchange checkout> show HEAD:vpdq/sample-hashes/<name>.txt > bench/data/vpdq/hashes/<name>.txt
(`--from-git <checkout>` does that). The reference files hash every frame (seconds_per_hash 0),
at full resolution; the `-128x128` files are not compared (we never downsample).

Checks per video, as the reference's own regression test: equal frame counts, and every frame whose
quality is >= 50 on both sides within distance 31 of the reference, line by line."""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from pathlib import Path

from amparo.content.video import Sampling, VideoLimits
from amparo.signals.hashes.vpdq import hash_video, parse_reference_lines

DATA = Path(__file__).parent / "data" / "vpdq"


def fetch_from_git(checkout: Path) -> None:
    (DATA / "videos").mkdir(parents=True, exist_ok=True)
    (DATA / "hashes").mkdir(parents=True, exist_ok=True)
    names = subprocess.run(
        ["git", "-C", str(checkout), "ls-tree", "--name-only", "HEAD", "vpdq/sample-hashes/"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    for path in names:
        name = Path(path).name
        if not name.endswith(".txt") or "x" in name.rsplit("-", 1)[-1]:
            continue
        stem = name[:-4]
        for src, dst in (
            (path, DATA / "hashes" / name),
            (f"tmk/sample-videos/{stem}.mp4", DATA / "videos" / f"{stem}.mp4"),
        ):
            r = subprocess.run(["git", "-C", str(checkout), "cat-file", "-p", f"HEAD:{src}"], capture_output=True)
            if r.returncode == 0 and r.stdout:
                dst.write_bytes(r.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--from-git", type=Path)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if args.from_git:
        fetch_from_git(args.from_git)
    rows = []
    for ref_file in sorted((DATA / "hashes").glob("*.txt")):
        if ref_file.stem.endswith("128x128"):
            continue
        video = DATA / "videos" / f"{ref_file.stem}.mp4"
        if not video.is_file() or video.stat().st_size == 0:
            rows.append({"video": ref_file.stem, "status": "video missing from the checkout"})
            continue
        ref = parse_reference_lines(ref_file.read_text())
        t0 = time.process_time()
        ours = hash_video(video.read_bytes(), sampling=Sampling(0.0), limits=VideoLimits()).frames
        cpu = time.process_time() - t0
        dists = [
            bin(int(a.hash, 16) ^ int(b.hash, 16)).count("1")
            for a, b in zip(ours, ref, strict=False)
            if a.quality >= 50 and b.quality >= 50
        ]
        rows.append(
            {
                "video": ref_file.stem,
                "frames_ours": len(ours),
                "frames_ref": len(ref),
                "compared": len(dists),
                "max": max(dists) if dists else None,
                "median": statistics.median(dists) if dists else None,
                "within_31": all(d <= 31 for d in dists),
                "same_numbers": [f.frame_number for f in ours] == [f.frame_number for f in ref],
                "cpu_s": round(cpu, 2),
            }
        )
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print("| video | frames (ours/ref) | q>=50 pairs | max dist | median | all <= 31 |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        if "status" in r:
            print(f"| {r['video']} | {r['status']} | | | | |")
        else:
            print(
                f"| {r['video']} | {r['frames_ours']}/{r['frames_ref']} | {r['compared']} | {r['max']} | "
                f"{r['median']} | {'yes' if r['within_31'] and r['same_numbers'] else 'NO'} |"
            )


if __name__ == "__main__":
    main()
