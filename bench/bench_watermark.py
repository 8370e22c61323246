"""Watermark bench: robustness, speed, PSNR and false positives of Amparo's keyed watermark
against invisible-watermark's dwtDct and dwtDctSvd (48 bits), on ~20 benign 1024x1024 images.

Run: OMP_NUM_THREADS=1 .venv/bin/python bench/bench_watermark.py [--quick]
invisible-watermark is optional (install with `pip install --no-deps invisible-watermark`; it
imports torch only for rivaGan, so a stub module stands in). Writes bench/results/watermark.md.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from PIL import Image, ImageEnhance  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from amparo.provenance.watermark import (  # noqa: E402
    MAX_ID,
    WatermarkKey,
    embed_watermark,
    expected_coded_bits,
    raw_decode,
    read_watermark,
)
from amparo.provenance.watermark_samples import draw_benign_image  # noqa: E402
from amparo.provenance.watermark_signal import psnr  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "pdq"
RESULTS = ROOT / "bench" / "results" / "watermark.md"
KEY = WatermarkKey(bytes(range(32)))
RGB = np.ndarray


def _imwatermark() -> types.ModuleType | None:
    sys.modules.setdefault("torch", types.ModuleType("torch"))
    try:
        import imwatermark
    except ImportError:
        return None
    return imwatermark


def jpeg(a: RGB, q: int) -> RGB:
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "JPEG", quality=q)
    return np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB"))


def resize(a: RGB, f: float, back: bool) -> RGB:
    h, w = a.shape[:2]
    small = Image.fromarray(a).resize((round(w * f), round(h * f)), Image.Resampling.BICUBIC)
    return np.asarray(small.resize((w, h), Image.Resampling.BICUBIC) if back else small)


def crop(a: RGB, keep: float, centre: bool) -> RGB:
    h, w = a.shape[:2]
    ch, cw = int(h * keep), int(w * keep)
    y0, x0 = ((h - ch) // 2, (w - cw) // 2) if centre else (0, 0)
    return a[y0 : y0 + ch, x0 : x0 + cw]


def bright(a: RGB, f: float) -> RGB:
    return np.asarray(ImageEnhance.Brightness(Image.fromarray(a)).enhance(f))


def rotate(a: RGB, deg: float) -> RGB:
    return np.asarray(Image.fromarray(a).rotate(deg, Image.Resampling.BICUBIC))


TRANSFORMS: dict[str, Callable[[RGB], RGB]] = {
    "none": lambda a: a,
    "JPEG q90": lambda a: jpeg(a, 90),
    "JPEG q75": lambda a: jpeg(a, 75),
    "JPEG q50": lambda a: jpeg(a, 50),
    "half size and back": lambda a: resize(a, 0.5, True),
    "crop 90%x90% top-left": lambda a: crop(a, 0.9, False),
    "crop 90%x90% centre": lambda a: crop(a, 0.9, True),
    "JPEG75 + half/back": lambda a: resize(jpeg(a, 75), 0.5, True),
    "JPEG75 + half/back + crop centre": lambda a: crop(resize(jpeg(a, 75), 0.5, True), 0.9, True),
    "brightness x1.15": lambda a: bright(a, 1.15),
    "brightness x0.85": lambda a: bright(a, 0.85),
    "rotate 1 deg": lambda a: rotate(a, 1.0),
    "rotate 2 deg": lambda a: rotate(a, 2.0),
    "half size (kept)": lambda a: resize(a, 0.5, False),
    "0.75x size (kept)": lambda a: resize(a, 0.75, False),
}


def bench_images(quick: bool) -> list[RGB]:
    n = 6 if quick else 16
    images = [np.asarray(draw_benign_image(seed, 1024)) for seed in range(n)]
    photos = [
        "bridge-mods/aaa-orig.jpg",
        "bridge-mods/high-contrast.jpg",
        "reg-test/pen-and-coaster.png",
        "misc-images/c.png",
        "reg-test/exif-rotn/exif-rotn-1.jpg",
        "bridge-mods/blur-a-lot.jpg",
    ]
    for rel in photos[: 2 if quick else len(photos)]:
        path = SHARED / rel
        if path.is_file():
            img = Image.open(path).convert("RGB").resize((1024, 1024), Image.Resampling.LANCZOS)
            images.append(np.asarray(img))
    return images


def unmarked_images(quick: bool) -> list[RGB]:
    out = []
    for path in sorted(SHARED.rglob("*")):
        if path.suffix.lower() in (".jpg", ".png", ".webp"):
            out.append(np.asarray(Image.open(path).convert("RGB")))
    sizes = (512, 768, 1024)
    count = 15 if quick else 120
    out += [np.asarray(draw_benign_image(1000 + s, sizes[s % 3])) for s in range(count)]
    return out


def timed(fn: Callable[[], object]) -> tuple[object, float]:
    t = time.perf_counter()
    value = fn()
    return value, (time.perf_counter() - t) * 1000.0


def main() -> None:
    quick = "--quick" in sys.argv
    imw = _imwatermark()
    images = bench_images(quick)
    rng = np.random.default_rng(7)
    ours: dict[str, list[tuple[bool, float, int]]] = {k: [] for k in TRANSFORMS}
    theirs: dict[str, dict[str, list[tuple[int, bool]]]] = {
        m: {k: [] for k in TRANSFORMS} for m in ("dwtDct", "dwtDctSvd")
    }
    t_embed, t_read, psnr_ours = [], [], []
    t_imw: dict[str, tuple[list[float], list[float], list[float]]] = {
        m: ([], [], []) for m in ("dwtDct", "dwtDctSvd")
    }
    for idx, image in enumerate(images):
        payload = int(rng.integers(0, MAX_ID, dtype=np.uint64))
        marked, ms = timed(
            lambda image=image, payload=payload: embed_watermark(image, payload, KEY)
        )
        t_embed.append(ms)
        psnr_ours.append(psnr(image, marked))
        coded = expected_coded_bits(payload, KEY)
        for name, fn in TRANSFORMS.items():
            attacked = fn(marked)
            reading, ms = timed(lambda attacked=attacked: read_watermark(attacked, KEY))
            if name == "none":
                t_read.append(ms)
            soft, decoded = raw_decode(attacked, KEY)
            raw_ber = float(np.mean((soft < 0) != (coded == 1)))
            ok = reading is not None and reading.id == payload
            id_errors = 0 if ok else bin(decoded ^ payload).count("1")
            ours[name].append((ok, raw_ber, id_errors))
        if imw is not None:
            bits = rng.integers(0, 2, 48).tolist()
            enc = imw.WatermarkEncoder()
            enc.set_watermark("bits", bits)
            bgr = np.ascontiguousarray(image[:, :, ::-1])
            for method in ("dwtDct", "dwtDctSvd"):
                wm_bgr, ms = timed(lambda m=method, b=bgr, e=enc: e.encode(b.copy(), m))
                t_imw[method][0].append(ms)
                wm_rgb = np.ascontiguousarray(wm_bgr[:, :, ::-1])
                t_imw[method][2].append(psnr(image, wm_rgb))
                for name, fn in TRANSFORMS.items():
                    attacked = np.ascontiguousarray(fn(wm_rgb)[:, :, ::-1])
                    dec = imw.WatermarkDecoder("bits", 48)
                    got, ms = timed(lambda a=attacked, m=method, d=dec: d.decode(a, m))
                    if name == "none":
                        t_imw[method][1].append(ms)
                    errors = int(sum(int(x) != int(y) for x, y in zip(got, bits, strict=True)))
                    theirs[method][name].append((errors, errors <= 12))  # >=36 of 48 match
        print(f"image {idx + 1}/{len(images)} done", file=sys.stderr)

    # false positives: unmarked images, and marked images read with another key
    unmarked = unmarked_images(quick)
    fp_ours, t_unmarked = 0, []
    fp_imw = {"dwtDct": 0, "dwtDctSvd": 0}
    probe_bits = rng.integers(0, 2, 48).tolist()
    for image in unmarked:
        reading, ms = timed(lambda image=image: read_watermark(image, KEY))
        if image.shape[:2] == (1024, 1024):
            t_unmarked.append(ms)
        fp_ours += reading is not None
        if imw is not None and image.shape[0] * image.shape[1] >= 256 * 256:
            bgr = np.ascontiguousarray(image[:, :, ::-1])
            for method in fp_imw:
                got = imw.WatermarkDecoder("bits", 48).decode(bgr, method)
                match = sum(int(x) == int(y) for x, y in zip(got, probe_bits, strict=True))
                fp_imw[method] += match >= 36
    other = WatermarkKey(bytes(range(100, 132)))
    fp_wrong_key = sum(
        read_watermark(embed_watermark(image, 5, KEY), other) is not None for image in images
    )
    write_report(
        images,
        ours,
        theirs,
        imw is not None,
        t_embed,
        t_read,
        t_unmarked,
        psnr_ours,
        t_imw,
        unmarked,
        fp_ours,
        fp_imw,
        fp_wrong_key,
        quick,
    )


def _pct(values: list[bool]) -> str:
    return f"{100.0 * sum(values) / max(1, len(values)):.0f}%"


def write_report(
    images,
    ours,
    theirs,
    have_imw,
    t_embed,
    t_read,
    t_unmarked,
    psnr_ours,
    t_imw,
    unmarked,
    fp_ours,
    fp_imw,
    fp_wrong_key,
    quick,
) -> None:
    n = len(images)
    lines = [
        "# Watermark robustness and speed",
        "",
        f"{n} benign 1024x1024 images: procedural drawings from "
        "`amparo.provenance.watermark_samples` + shared bridge/pen/street photos resized.",
        "Ours: `amparo-wm-v1`, 64-bit id + 24-bit HMAC tag, rate-1/3 convolutional code "
        "(282 coded bits), default strength (RMS 2.0). invisible-watermark: 48 random bits, "
        "default scales, BGR input as the library expects.",
        "",
        "Detection: ours = the keyed decoder returns exactly the embedded id (tag verified); "
        "theirs = at least 36 of 48 bits match (Stability's 'very likely' threshold). "
        "BER: ours = raw coded-bit error rate before the Viterbi decoder (strongest pilot peak, "
        "native scale only, so rescaled rows show ~0.5 even when the scale search recovers the "
        "id); theirs = payload bit error rate.",
        "",
    ]
    header = "| transformation | ours: detected | ours: raw BER | ours: id bit errors (mean) |"
    sep = "|---|---|---|---|"
    if have_imw:
        header += " dwtDct: detected | dwtDct: BER | dwtDctSvd: detected | dwtDctSvd: BER |"
        sep += "---|---|---|---|"
    lines += [header, sep]
    for name, rows in ours.items():
        ok = [r[0] for r in rows]
        ber = statistics.mean(r[1] for r in rows)
        id_err = statistics.mean(r[2] for r in rows)
        line = f"| {name} | {_pct(ok)} | {ber:.3f} | {id_err:.1f} |"
        if have_imw:
            for method in ("dwtDct", "dwtDctSvd"):
                res = theirs[method][name]
                ber = statistics.mean(r[0] for r in res) / 48
                line += f" {_pct([r[1] for r in res])} | {ber:.3f} |"
        lines.append(line)
    lines += [
        "",
        "## Speed and quality (one core, 1024x1024, median ms)",
        "",
        "| method | embed | decode (marked) | decode (unmarked, all scales) "
        "| PSNR mean / min (dB) |",
        "|---|---|---|---|---|",
        f"| ours | {statistics.median(t_embed):.0f} | {statistics.median(t_read):.0f} | "
        f"{statistics.median(t_unmarked) if t_unmarked else float('nan'):.0f} | "
        f"{statistics.mean(psnr_ours):.1f} / {min(psnr_ours):.1f} |",
    ]
    if have_imw:
        for method, (enc, dec, ps) in t_imw.items():
            lines.append(
                f"| {method} | {statistics.median(enc):.0f} | {statistics.median(dec):.0f} | - | "
                f"{statistics.mean(ps):.1f} / {min(ps):.1f} |"
            )
        ratio_e = statistics.median(t_embed) / statistics.median(t_imw["dwtDct"][0])
        ratio_d = statistics.median(t_read) / statistics.median(t_imw["dwtDct"][1])
        lines.append("")
        lines.append(f"Ours vs dwtDct: embed x{ratio_e:.2f}, decode x{ratio_d:.2f} the time.")
    lines += [
        "",
        "## False positives",
        "",
        f"- ours, {len(unmarked)} unmarked benign images (all shared pdq images at their own "
        f"sizes, procedural 512/768/1024): **{fp_ours}** readings "
        "(each read tries up to 8 scales x 3 pilot peaks; a peak is decoded only at z >= 6, and a "
        "reading also needs the 24-bit HMAC tag to match).",
        "p about 9 x 2^-24 = 5e-7 per image).",
        f"- ours, {n} marked images read with a different key: **{fp_wrong_key}** readings.",
    ]
    if have_imw:
        lines.append(
            f"- invisible-watermark, same unmarked images, >=36/48 match with a fixed 48-bit "
            f"probe: dwtDct {fp_imw['dwtDct']}, dwtDctSvd {fp_imw['dwtDctSvd']}."
        )
    lines += [
        "",
        "## How measured",
        "",
        "`OMP_NUM_THREADS=1 .venv/bin/python bench/bench_watermark.py`"
        + (" --quick (reduced set)" if quick else "")
        + "; Pillow JPEG (4:2:0 default subsampling), bicubic resizes, crops keep 90% of each "
        "side (81% of the area), PIL ImageEnhance brightness, bicubic rotation about the centre "
        "without expanding (black corners). Times: time.perf_counter around one call, "
        "single process on this 2-vCPU VM shared with other jobs (absolute times vary with load; "
        "ours and invisible-watermark ran interleaved in the same run, so the ratios hold).",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
